"""Wagtail 8 (its read/write API v3) as a CMS source: pages of one type, translated as pages.

In Wagtail a translation is a separate page linked to its source by ``translation_key``, so
entry ids are the *source* page ids and every locale is found through
``/pages/?translation_of=<id>&locale=<code>``. The first write to a locale creates the page
with ``actions/copy_for_translation`` (``copy_parents``: the parent chain is copied too) and
then PATCHes it like every later write.

The feed: API v3 has no "changed since" filter and its list answer carries no timestamps, only
an ordering. So ``changes`` walks ``order=-latest_revision_created_at`` page by page, reads each
page's timestamp from its detail, and stops at the first one older than the cursor. When
published pages are translated, a publish that makes no new revision (scheduled publishing,
bulk publish, ``actions/publish``) moves only ``last_published_at``; when the page type exposes
that field it is walked the same way, and an item's ``updated_at`` is the later of the two.

Rich text: Wagtail returns database HTML with ``data-block-key`` attributes that it invents
anew on every write, so a ``text`` field (the whole HTML as one segment, tags kept by the
placeholder checker) is read with those attributes removed; otherwise what we wrote would
never read back the same and look like an editor's change. A ``markdown`` field is read as
``rich_text_format=db_markdown`` and written in the ``{"format": "db_markdown"}`` envelope,
one segment per paragraph. One request reads a page in one format: with any ``markdown``
field, every rich-text field of the page type must be listed as ``markdown``.

Authentication: ``Authorization: Bearer <token>`` (``manage.py api_tokens create``). A bad
token is not refused on reads (API v3 falls back to the anonymous, public view), so the token
is checked once against ``/whoami/`` before the first request.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from daemon.cms.config import CmsConfig
from daemon.cms.cursor import parse_timestamp
from daemon.cms.feed import FeedItem
from daemon.errors import CmsError
from daemon.secrets import Secret

API = "/api/v3"
PAGE_SIZE = 20  # Wagtail's default WAGTAILAPI_LIMIT_MAX; a larger limit is refused with 400
MAX_PAGES = 10_000
REVISION = "latest_revision_created_at"
PUBLISHED = "last_published_at"
_BLOCK_KEY = re.compile(r'\sdata-block-key="[^"]*"')


class WagtailFeed:
    """One Wagtail site's pages of ``pageType``; one connection pool for the daemon's lifetime."""

    def __init__(self, source: str, cms: CmsConfig, token: Secret | None, *, page_type: str | None = None) -> None:
        self.source = source
        self.cms = cms
        chosen: str | None = page_type or getattr(cms, "page_type", None)
        if not chosen:
            raise CmsError(source, "configure", None, "kind 'wagtail' needs 'pageType', e.g. 'home.ArticlePage'")
        self.page_type = chosen
        self.markdown = {spec.path for spec in cms.field_specs if spec.kind == "markdown"}
        self.token = token.reveal() if token is not None else ""
        headers = {"Accept": "application/json", "User-Agent": "locsync"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        self.client = httpx.AsyncClient(
            base_url=cms.base_url, headers=headers, timeout=cms.timeout_seconds, follow_redirects=False
        )
        self._token_checked = False
        # None: not known yet; False: the page type does not expose last_published_at
        self._published_order: bool | None = None if cms.read_status == "published" else False

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- requests ---------------------------------------------------------------------------

    async def _request(self, what: str, method: str, url: str, body: Any = None) -> httpx.Response:
        await self._check_token()
        return await self._send(what, method, url, body)

    async def _send(self, what: str, method: str, url: str, body: Any = None) -> httpx.Response:
        try:
            return await self.client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            detail = f"{type(exc).__name__}: {exc}"
            if self.token:
                detail = detail.replace(self.token, "[redacted]")
            raise CmsError(self.source, what, None, detail[:300]) from None

    def _fail(self, what: str, response: httpx.Response) -> CmsError:
        detail = response.text
        if self.token:  # a proxy or an error page that echoes the credential
            detail = detail.replace(self.token, "[redacted]")
        detail = " ".join(detail[:300].split())
        if response.status_code in (401, 403):
            detail += " (check the API token and its user's page permissions)"
        return CmsError(self.source, what, response.status_code, detail)

    async def _check_token(self) -> None:
        """Fail fast on a bad token: reads would otherwise quietly see only public pages."""
        if self._token_checked:
            return
        what = "check the API token (GET /api/v3/whoami/)"
        response = await self._send(what, "GET", f"{API}/whoami/")
        if response.status_code != 200:
            raise self._fail(what, response)
        self._token_checked = True

    async def _json(self, what: str, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise CmsError(self.source, what, response.status_code, "the answer is not JSON") from None

    def _format(self) -> dict[str, str]:
        return {"rich_text_format": "db_markdown"} if self.markdown else {}

    # --- the feed ---------------------------------------------------------------------------

    async def changes(self, locale: str, cursor: str | None) -> list[FeedItem]:
        """Pages of ``locale`` edited (or published) at or after ``cursor`` (all when None), oldest first."""
        since = parse_timestamp(cursor) if cursor is not None else None
        found: dict[str, tuple[datetime, str]] = {}
        orders = [REVISION] + ([PUBLISHED] if self._published_order is not False else [])
        for order in orders:
            for entry_id, moment, stamp in await self._walk(locale, order, since, cursor):
                if entry_id not in found or moment > found[entry_id][0]:
                    found[entry_id] = (moment, stamp)
        ordered = sorted(found.items(), key=lambda kv: (kv[1][0], _numeric(kv[0])))
        return [FeedItem(entry_id, stamp) for entry_id, (_, stamp) in ordered]

    async def _walk(
        self, locale: str, order: str, since: datetime | None, cursor: str | None
    ) -> list[tuple[str, datetime, str]]:
        """(id, instant, timestamp as returned) of the pages whose ``order`` field is >= ``since``."""
        out: list[tuple[str, datetime, str]] = []
        for page in range(MAX_PAGES):
            query: list[tuple[str, str | int]] = [
                ("type", self.page_type), ("locale", locale), ("order", f"-{order}"), ("order", "-pk"),
                ("limit", PAGE_SIZE), ("offset", page * PAGE_SIZE), *self.cms.query.items(),
            ]
            what = f"list {self.page_type} pages ({locale}) by {order} since {cursor or 'the beginning'} (page {page + 1})"
            response = await self._request(what, "GET", f"{API}/pages/?{urlencode(query)}")
            if response.status_code == 422 and order == PUBLISHED and PUBLISHED in response.text:
                self._published_order = False  # not an APIField of this page type: walk revisions only
                return out
            if response.status_code != 200:
                raise self._fail(what, response)
            rows = _items(await self._json(what, response))
            if rows is None:
                raise CmsError(self.source, what, 200, "expected {'items': [...]} in the answer")
            for row in rows:
                entry_id = row.get("id") if isinstance(row, dict) else None
                if entry_id is None:
                    raise CmsError(self.source, what, 200, "an item lacks 'id'")
                stamps = await self._stamps(str(entry_id))
                if stamps is None:
                    continue  # deleted since the list was read
                mine = stamps.get(order)
                if mine is None:
                    continue  # never revised / never published: sorts last (SQLite) or first (Postgres)
                if since is not None and mine[0] < since:
                    return out
                latest = max(stamps.values())
                out.append((str(entry_id), latest[0], latest[1]))
            if len(rows) < PAGE_SIZE:
                break
        if order == PUBLISHED:
            self._published_order = True
        return out

    async def _get_object(self, what: str, url: str) -> dict[str, Any] | None:
        """A page's JSON object; None on 404."""
        response = await self._request(what, "GET", url)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(what, response)
        entry = await self._json(what, response)
        if not isinstance(entry, dict):
            raise CmsError(self.source, what, 200, "expected an object")
        return entry

    async def _stamps(self, entry_id: str) -> dict[str, tuple[datetime, str]] | None:
        """The page's timestamps that the detail exposes (the list answer carries none)."""
        what = f"read the timestamps of page {entry_id}"
        entry = await self._get_object(what, f"{API}/pages/{entry_id}/")
        if entry is None:
            return None
        out: dict[str, tuple[datetime, str]] = {}
        for name in (REVISION, PUBLISHED):
            value = entry.get(name)
            moment = parse_timestamp(value) if isinstance(value, str) else None
            if moment is not None and isinstance(value, str):
                out[name] = (moment, value)
        if REVISION not in entry:
            raise CmsError(self.source, what, 200, f"the page type {self.page_type} does not expose "
                           f"'{REVISION}'; add APIField('{REVISION}') to its api_fields")
        return out

    # --- reading and writing ------------------------------------------------------------------

    async def read(self, entry_id: str, locale: str, *, target: bool) -> dict[str, Any] | None:
        """The source page (``target=False``) or its ``locale`` translation; None when absent.

        The source is read as published (the live version; None if never published) or as its
        latest draft, per ``readStatus``; a translation always as its latest revision, which is
        what we wrote last or what an editor saved since.
        """
        if target:
            page_id = await self._translation(entry_id, locale)
            if page_id is None:
                return None
            version = "draft"
        else:
            page_id = entry_id
            version = "live" if self.cms.read_status == "published" else "draft"
        what = f"read page {page_id} ({locale}, {version})"
        query = urlencode({"version": version, **self._format()})
        entry = await self._get_object(what, f"{API}/pages/{page_id}/?{query}")
        if entry is None:
            return None
        if version == "live" and not _live(entry):
            return None
        return {key: _strip_block_keys(value) for key, value in entry.items()}

    async def _translation(self, entry_id: str, locale: str) -> str | None:
        """The id of the ``locale`` page translated from ``entry_id``, or None."""
        what = f"find the {locale} translation of page {entry_id}"
        query = urlencode({"translation_of": entry_id, "locale": locale, "limit": 2})
        response = await self._request(what, "GET", f"{API}/pages/?{query}")
        if response.status_code == 422 and "translation_of" in response.text:
            return None  # the source page itself is gone
        if response.status_code == 404 and "Locale" in response.text:
            raise CmsError(self.source, what, 404, f"Wagtail has no locale '{locale}'; add it in Settings > Locales")
        if response.status_code != 200:
            raise self._fail(what, response)
        rows = _items(await self._json(what, response))
        if not rows:
            return None
        found = rows[0].get("id") if isinstance(rows[0], dict) else None
        return str(found) if found is not None else None

    async def write(self, entry_id: str, locale: str, fields: dict[str, Any]) -> None:
        """Write ``fields`` into the ``locale`` translation, creating it on the first write.

        ``writeStatus: published`` publishes the new revision; ``draft`` only saves it (a new
        translation stays unpublished, an existing one keeps its live version until an editor
        publishes).
        """
        page_id = await self._translation(entry_id, locale)
        if page_id is None:
            page_id = await self._copy_for_translation(entry_id, locale)
        meta: dict[str, str] = {"type": self.page_type}
        if self.cms.write_status == "published":
            meta["action"] = "publish"
        body: dict[str, Any] = {"meta": meta}
        for name, value in fields.items():
            if name in self.markdown and isinstance(value, str):
                body[name] = {"format": "db_markdown", "content": value}
            else:
                body[name] = value
        what = f"write page {page_id} ({locale}, translation of {entry_id})"
        response = await self._request(what, "PATCH", f"{API}/pages/{page_id}/", body)
        if response.status_code != 200:
            raise self._fail(what, response)

    async def _copy_for_translation(self, entry_id: str, locale: str) -> str:
        what = f"create the {locale} translation of page {entry_id} (copy_for_translation)"
        response = await self._request(
            what, "POST", f"{API}/pages/{entry_id}/actions/copy_for_translation/", {"locale": locale, "copy_parents": True}
        )
        if response.status_code == 201:
            created = await self._json(what, response)
            if isinstance(created, dict) and created.get("id") is not None:
                return str(created["id"])
            raise CmsError(self.source, what, 201, "the answer has no page id")
        # Wagtail answers 500 when the translation exists already: made by an editor (or another
        # writer) since we looked; write into that one
        existing = await self._translation(entry_id, locale)
        if existing is not None:
            return existing
        raise self._fail(what, response)


def _items(body: Any) -> list[Any] | None:
    rows = body.get("items") if isinstance(body, dict) else None
    return rows if isinstance(rows, list) else None


def _live(entry: dict[str, Any]) -> bool:
    """Whether a page has a published version: ``live`` when the page type exposes it, else
    ``first_published_at`` (which a later unpublish does not clear)."""
    if isinstance(entry.get("live"), bool):
        return bool(entry["live"])
    meta = entry.get("meta")
    return isinstance(meta, dict) and meta.get("first_published_at") is not None


def _strip_block_keys(value: Any) -> Any:
    if isinstance(value, str) and "data-block-key" in value:
        return _BLOCK_KEY.sub("", value)
    return value


def _numeric(entry_id: str) -> tuple[int, str]:
    return (int(entry_id), "") if entry_id.isdigit() else (0, entry_id)
