"""One HTTP client for every CMS: the change feed, reading an entry, writing a localized entry.

Strapi is a preset of URL templates (``strapi_templates``); ``kind: http`` takes them from
the config. Errors name the source and the request (never the token) and say whether a
retry can help, like provider errors do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from daemon.cms.config import CmsConfig, HttpFeedConfig
from daemon.errors import CmsError
from daemon.secrets import Secret

if TYPE_CHECKING:  # imported when a CMS source is opened: the syncer imports this module for CmsError
    import httpx

EPOCH = "1970-01-01T00:00:00.000Z"
MAX_PAGES = 10_000


@dataclass(frozen=True)
class FeedItem:
    """One changed entry, as the feed lists it."""

    id: str
    updated_at: str


def strapi_templates(cms: CmsConfig) -> HttpFeedConfig:
    """Strapi 5's REST content API as templates.

    The feed reads draft rows of the source locale: in Strapi 5 the draft row holds the latest
    edit, and publishing touches it too, so every edit and every publish moves its ``updatedAt``.
    ``$gte`` (not ``$gt``: timestamps have millisecond resolution and ties happen) with the
    overlap window and the seen-set in ``daemon.cms.cursor`` make the feed lossless.
    """
    base = f"/api/{quote(cms.collection or '', safe='')}"
    return HttpFeedConfig(
        listUrl=(
            base + "?locale={locale}&status=draft&filters[updatedAt][$gte]={cursor}"
            "&sort[0]=updatedAt:asc&sort[1]=id:asc&pagination[page]={page}&pagination[pageSize]={pageSize}"
            "&fields[0]=updatedAt"
        ),
        items="data",
        id="documentId",
        updatedAt="updatedAt",
        # populate=*: components (seo.description) are not in the answer otherwise
        readUrl=base + "/{id}?locale={locale}&status=" + cms.read_status + "&populate=*",
        readTargetUrl=base + "/{id}?locale={locale}&status=draft&populate=*",
        entry="data",
        writeUrl=base + "/{id}?locale={locale}&status=" + cms.write_status,
        writeMethod="PUT",
        writeWrap="data",
    )


def json_path(value: Any, path: str) -> Any:
    """``value`` at the dotted ``path`` (``''`` is ``value`` itself); None when absent."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def fill_url(template: str, **values: str | int) -> str:
    """The template with each ``{name}`` replaced by its URL-encoded value."""
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", quote(str(value), safe=""))
    return out


class HttpFeed:
    """Talks to one CMS source; one connection pool for the daemon's lifetime."""

    def __init__(self, source: str, cms: CmsConfig, token: Secret | None) -> None:
        self.source = source
        self.cms = cms
        self.templates = strapi_templates(cms) if cms.kind == "strapi" else cms.http
        assert self.templates is not None  # validated: kind http has an http block
        headers = {"Accept": "application/json", "User-Agent": "locsync"}
        self.token = token.reveal() if token is not None else ""
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        import httpx

        self.client = httpx.AsyncClient(
            base_url=cms.base_url, headers=headers, timeout=cms.timeout_seconds, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _request(self, what: str, method: str, url: str, body: Any = None) -> httpx.Response:
        import httpx

        try:
            response = await self.client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise CmsError(self.source, what, None, f"{type(exc).__name__}: {exc}"[:300]) from None
        return response

    def _fail(self, what: str, response: httpx.Response) -> CmsError:
        detail = response.text
        if self.token:  # a CMS or proxy that echoes the credential
            detail = detail.replace(self.token, "[redacted]")
        detail = detail[:300].replace("\n", " ")
        if response.status_code in (401, 403):
            detail += " (check the API token and its permissions)"
        return CmsError(self.source, what, response.status_code, detail)

    async def changes(self, locale: str, cursor: str | None) -> list[FeedItem]:
        """Entries of ``locale`` changed at or after ``cursor`` (all of them when None), oldest first."""
        t = self.templates
        assert t is not None
        items: list[FeedItem] = []
        for page in range(1, MAX_PAGES + 1):
            url = fill_url(t.list_url, locale=locale, cursor=cursor or EPOCH, page=page, pageSize=t.page_size)
            if self.cms.query:  # appended: httpx's params= would replace the template's query
                url += ("&" if "?" in url else "?") + urlencode(self.cms.query)
            what = f"list changes since {cursor or 'the beginning'} (page {page})"
            response = await self._request(what, "GET", url)
            if response.status_code != 200:
                raise self._fail(what, response)
            rows = json_path(_json(response, self.source, what), t.items)
            if not isinstance(rows, list):
                raise CmsError(self.source, what, 200, f"expected a list at '{t.items}' in the answer")
            for row in rows:
                entry_id, updated = json_path(row, t.id), json_path(row, t.updated_at)
                if entry_id is None or not isinstance(updated, str):
                    raise CmsError(self.source, what, 200, f"an item lacks '{t.id}' or '{t.updated_at}'")
                items.append(FeedItem(str(entry_id), updated))
            if len(rows) < t.page_size or "{page}" not in t.list_url:
                break
        return items

    async def read(self, entry_id: str, locale: str, *, target: bool) -> dict[str, Any] | None:
        """The entry in ``locale``, or None when that locale (or the entry) does not exist."""
        t = self.templates
        assert t is not None
        template = (t.read_target_url or t.read_url) if target else t.read_url
        what = f"read {entry_id} ({locale})"
        response = await self._request(what, "GET", fill_url(template, id=entry_id, locale=locale))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(what, response)
        entry = json_path(_json(response, self.source, what), t.entry)
        if entry is None:
            return None
        if not isinstance(entry, dict):
            raise CmsError(self.source, what, 200, f"expected an object at '{t.entry}' in the answer")
        return entry

    async def write(self, entry_id: str, locale: str, fields: dict[str, Any]) -> None:
        """Write ``fields`` (top-level names) into the ``locale`` version, creating it if needed."""
        t = self.templates
        assert t is not None
        what = f"write {entry_id} ({locale})"
        body = {t.write_wrap: fields} if t.write_wrap else fields
        response = await self._request(what, t.write_method, fill_url(t.write_url, id=entry_id, locale=locale), body)
        if response.status_code not in (200, 201, 204):
            raise self._fail(what, response)


def _json(response: httpx.Response, source: str, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise CmsError(source, what, response.status_code, "the answer is not JSON") from None
