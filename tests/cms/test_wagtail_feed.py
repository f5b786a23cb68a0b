"""``WagtailFeed`` against a real Wagtail 8 (tests/cms/wagtail, API v3 with a bearer token).

The feed, reads and writes the daemon relies on: the change feed walked by
``-latest_revision_created_at`` (and by ``-last_published_at`` for publishes that make no
revision), the cursor's ``>=``; the source read as published or as draft; the first write to a
locale making the translation with ``copy_for_translation``, later writes PATCHing it; rich text
that reads back exactly as written (so our own write never looks like an editor's); absent pages
and locales; a bad token refused without being echoed.

One Wagtail serves the session, so each test puts its articles under a parent page of its own
and lists only that parent's children (``cms.query: {child_of: <parent>}``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from daemon.cms import wagtail as wagtail_module
from daemon.cms.config import CmsConfig
from daemon.cms.fields import payload, read_fields
from daemon.cms.wagtail import WagtailFeed
from daemon.engine.translators.pseudo import pseudo_translate
from daemon.errors import CmsError
from daemon.secrets import Secret
from tests.cms.wagtail_fixture import WagtailInstance, wagtail_session  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.anyio]

PAGE_TYPE = "home.ArticlePage"
API = "/api/v3"
_unique = itertools.count()


class Editor:
    """A person editing in Wagtail, through API v3 with the session's token."""

    def __init__(self, wagtail: WagtailInstance) -> None:
        self.wagtail = wagtail
        self.api = httpx.Client(base_url=wagtail.url, headers={"Authorization": f"Bearer {wagtail.token}"}, timeout=30)

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def folder(self) -> int:
        """A fresh English parent page: the test's own corner of the page tree (API v3 creates only
        the registered page types, so it is an article too; ``child_of`` leaves it out of the feed)."""
        slug = f"folder-{time.time_ns()}-{next(_unique)}"
        body = {"meta": {"type": PAGE_TYPE, "parent_id": self.wagtail.parent_id, "action": "publish"},
                "title": slug, "slug": slug}
        page_id: int = self.ok(self.api.post(f"{API}/pages/", json=body), 201)["id"]
        return page_id

    def create(self, parent: int, *, publish: bool = True, **fields: Any) -> str:
        slug = f"article-{time.time_ns()}-{next(_unique)}"
        meta: dict[str, Any] = {"type": PAGE_TYPE, "parent_id": parent}
        if publish:
            meta["action"] = "publish"
        page_id = self.ok(self.api.post(f"{API}/pages/", json={"meta": meta, "slug": slug, **fields}), 201)["id"]
        return str(page_id)

    def edit(self, page_id: str, *, publish: bool = True, **fields: Any) -> dict[str, Any]:
        meta = {"action": "publish"} if publish else {}
        return self.ok(self.api.patch(f"{API}/pages/{page_id}/", json={"meta": meta, **fields}))

    def publish(self, page_id: str) -> None:
        self.ok(self.api.post(f"{API}/pages/{page_id}/actions/publish/"))

    def get(self, page_id: str, **params: str) -> dict[str, Any]:
        return self.ok(self.api.get(f"{API}/pages/{page_id}/", params=params))

    def translations(self, page_id: str, locale: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok(
            self.api.get(f"{API}/pages/", params={"translation_of": page_id, "locale": locale}))["items"]
        return items


def changed_at(page: dict[str, Any]) -> str:
    """What the feed reports for a page when published pages are read: the later of its last
    revision and its last publish (a publish through the API lands just after its revision)."""
    stamps = [page["latest_revision_created_at"], page["last_published_at"]]
    return max((s for s in stamps if s), key=datetime.fromisoformat)


@pytest.fixture
def editor(wagtail: WagtailInstance) -> Iterator[Editor]:
    client = Editor(wagtail)
    yield client
    client.api.close()


def config(wagtail: WagtailInstance, fields: list[Any], **extra: Any) -> CmsConfig:
    """A valid ``cms`` block. ``kind: http`` with placeholder templates stands in for ``kind: wagtail``
    until the config knows it; WagtailFeed reads only the common keys (and gets pageType directly)."""
    return CmsConfig.model_validate({
        "kind": "http", "baseUrl": wagtail.url, "fields": fields,
        "http": {"listUrl": "/unused", "readUrl": "/unused", "writeUrl": "/unused"}, **extra,
    })


@pytest.fixture
async def open_feed(wagtail: WagtailInstance) -> AsyncIterator[Any]:
    """``open_feed(fields, token=..., **cms)``: a WagtailFeed closed after the test."""
    feeds: list[WagtailFeed] = []

    def make(fields: list[Any] | None = None, *, token: str | None = None, **extra: Any) -> WagtailFeed:
        cms = config(wagtail, fields or ["title", "intro", {"path": "body", "kind": "markdown"}], **extra)
        feed = WagtailFeed("site", cms, Secret(token or wagtail.token), page_type=PAGE_TYPE)
        feeds.append(feed)
        return feed

    yield make
    for feed in feeds:
        await feed.aclose()


async def test_changes_walk_pages_oldest_first_and_honour_the_cursor(
    editor: Editor, open_feed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wagtail_module, "PAGE_SIZE", 2)  # several list pages with a handful of articles
    folder = editor.folder()
    feed: WagtailFeed = open_feed(query={"child_of": str(folder)})
    ids = [editor.create(folder, title=f"Article {n}", intro="Intro", body="<p>Body</p>") for n in range(5)]
    stamps = {i: changed_at(editor.get(i)) for i in ids}

    items = await feed.changes("en", None)
    assert [item.id for item in items] == ids
    assert [item.updated_at for item in items] == [stamps[i] for i in ids]  # the timestamps as Wagtail returns them

    # >= the cursor: the item at the cursor itself is listed again (the cursor module dedupes it)
    later = await feed.changes("en", stamps[ids[2]])
    assert [item.id for item in later] == ids[2:]

    # an edit moves the page to the end; a draft save counts as an edit too
    editor.edit(ids[0], publish=False, intro="Edited intro")
    after = await feed.changes("en", stamps[ids[4]])
    assert [item.id for item in after] == [ids[4], ids[0]]
    assert after[-1].updated_at == editor.get(ids[0])["latest_revision_created_at"]  # now the later of the two

    # translations (other locales) never show up in the source locale's feed
    await feed.write(ids[1], "fr", {"title": "Article 1 (fr)"})
    assert [item.id for item in await feed.changes("en", stamps[ids[4]])] == [ids[4], ids[0]]
    assert [item.id for item in await feed.changes("en", None)] == [*ids[1:], ids[0]]


async def test_a_publish_without_a_new_revision_is_seen(editor: Editor, open_feed: Any) -> None:
    """``actions/publish`` (like scheduled or bulk publishing) moves only ``last_published_at``."""
    folder = editor.folder()
    feed: WagtailFeed = open_feed(query={"child_of": str(folder)})
    page = editor.create(folder, publish=False, title="Draft first", intro="i", body="<p>b</p>")
    revised = editor.get(page)["latest_revision_created_at"]
    other = editor.create(folder, title="Later", intro="i", body="<p>b</p>")
    cursor = editor.get(other)["latest_revision_created_at"]
    assert [item.id for item in await feed.changes("en", cursor)] == [other]

    editor.publish(page)
    detail = editor.get(page)
    assert detail["latest_revision_created_at"] == revised  # no new revision...
    items = await feed.changes("en", cursor)
    assert [item.id for item in items] == [other, page]  # ...yet the publish is in the feed
    assert items[-1].updated_at == detail["last_published_at"]

    # with readStatus draft a publish changes nothing that is read: only revisions are walked
    drafts: WagtailFeed = open_feed(query={"child_of": str(folder)}, readStatus="draft")
    assert [item.id for item in await drafts.changes("en", cursor)] == [other]


async def test_source_is_read_as_published_or_as_draft(editor: Editor, open_feed: Any) -> None:
    folder = editor.folder()
    published: WagtailFeed = open_feed()
    drafts: WagtailFeed = open_feed(readStatus="draft")
    never = editor.create(folder, publish=False, title="Never published", intro="i", body="<p>b</p>")
    assert await published.read(never, "en", target=False) is None
    entry = await drafts.read(never, "en", target=False)
    assert entry is not None and entry["title"] == "Never published"

    live = editor.create(folder, title="Live title", intro="Live intro", body="<p>Live <b>body</b></p>")
    editor.edit(live, publish=False, title="Draft title")
    entry = await published.read(live, "en", target=False)
    assert entry is not None and entry["title"] == "Live title"
    assert entry["body"] == "Live **body**\n\n"  # a markdown field is read as Markdown
    entry = await drafts.read(live, "en", target=False)
    assert entry is not None and entry["title"] == "Draft title"


async def test_first_write_copies_for_translation_later_writes_patch(editor: Editor, open_feed: Any) -> None:
    folder = editor.folder()
    feed: WagtailFeed = open_feed()
    body = "<h2>Welcome</h2><p>First <b>bold</b> with <a href=\"https://example.com/x\">a link</a>.</p><ul><li>one</li><li>two</li></ul>"
    page = editor.create(folder, title="Hello world", intro="Short intro", body=body)
    assert await feed.read(page, "fr", target=True) is None

    source = await feed.read(page, "en", target=False)
    assert source is not None
    entries, handle = read_fields(source, feed.cms.field_specs, "en")
    assert entries["body/body/top/1"] == "Welcome"  # one key per Markdown block
    assert entries["body/body/top/4"] == "two"
    values = {key: pseudo_translate(str(text), "fr") for key, text in entries.items()}
    fields = payload(values, feed.cms.field_specs, source=handle, target=None)
    await feed.write(page, "fr", fields)

    [translation] = editor.translations(page, "fr")
    assert translation["meta"]["locale"] == "fr" and translation["meta"]["first_published_at"] is None  # a draft
    target = await feed.read(page, "fr", target=True)
    assert target is not None
    # what we wrote reads back the same, key by key: our write never looks like an editor's edit
    assert read_fields(target, feed.cms.field_specs, "fr")[0] == values
    assert editor.get(page)["title"] == "Hello world"  # the source is untouched

    # a second write PATCHes the same page (no second copy); publishing per writeStatus
    publishing: WagtailFeed = open_feed(writeStatus="published")
    await publishing.write(page, "fr", {"title": "Bonjour le monde"})
    [again] = editor.translations(page, "fr")
    assert again["id"] == translation["id"]
    live = editor.get(str(again["id"]))
    assert live["title"] == "Bonjour le monde" and live["meta"]["first_published_at"] is not None
    assert live["intro"] == values["intro"]  # fields not written keep their value

    # de is created on its own first write, under a de copy of the parent chain
    await feed.write(page, "de", {"title": "Hallo Welt"})
    [german] = editor.translations(page, "de")
    assert german["title"] == "Hallo Welt" and german["id"] not in (translation["id"], int(page))


async def test_rich_text_as_text_reads_back_exactly_as_written(editor: Editor, open_feed: Any) -> None:
    """``kind: text`` keeps the HTML as one segment; Wagtail's fresh ``data-block-key`` attributes are not part of it."""
    folder = editor.folder()
    feed: WagtailFeed = open_feed(["title", "body"])
    page = editor.create(folder, title="T", intro="i", body="<p>Hello <b>world</b></p><p>Second</p>")
    assert 'data-block-key="' in editor.get(page)["body"]
    source = await feed.read(page, "en", target=False)
    assert source is not None and source["body"] == "<p>Hello <b>world</b></p><p>Second</p>"
    await feed.write(page, "fr", {"body": "<p>Bonjour <b>monde</b></p><p>Deuxième</p>"})
    target = await feed.read(page, "fr", target=True)
    assert target is not None and target["body"] == "<p>Bonjour <b>monde</b></p><p>Deuxième</p>"
    # and twice in a row the same (the stale-write check compares two reads)
    assert await feed.read(page, "fr", target=True) == target


async def test_absent_pages_and_locales(editor: Editor, open_feed: Any) -> None:
    feed: WagtailFeed = open_feed()
    assert await feed.read("999999", "en", target=False) is None
    assert await feed.read("999999", "fr", target=True) is None
    with pytest.raises(CmsError) as missing:
        await feed.write("999999", "fr", {"title": "x"})
    assert missing.value.status == 404 and "copy_for_translation" in str(missing.value)
    page = editor.create(editor.folder(), title="T", intro="i", body="<p>b</p>")
    with pytest.raises(CmsError, match="no locale 'xx'"):
        await feed.read(page, "xx", target=True)
    unknown: WagtailFeed = open_feed()
    unknown.page_type = "home.NoSuchPage"
    with pytest.raises(CmsError, match=r"list home\.NoSuchPage pages .* HTTP 422"):
        await unknown.changes("en", None)


async def test_a_bad_token_is_refused_and_never_echoed(editor: Editor, open_feed: Any, wagtail: WagtailInstance) -> None:
    """Reads with a bad token would quietly fall back to the public view; the feed refuses instead."""
    page = editor.create(editor.folder(), title="Public", intro="i", body="<p>b</p>")
    bad = "wagtail_" + "x" * 33
    assert editor.api.get(f"{API}/pages/{page}/", headers={"Authorization": f"Bearer {bad}"}).status_code == 200
    for call in ("changes", "read", "write"):
        feed: WagtailFeed = open_feed(token=bad)
        with pytest.raises(CmsError) as caught:
            if call == "changes":
                await feed.changes("en", None)
            elif call == "read":
                await feed.read(page, "en", target=False)
            else:
                await feed.write(page, "fr", {"title": "x"})
        assert caught.value.status == 401 and caught.value.source == "site"
        assert "check the API token" in str(caught.value) and bad not in str(caught.value)
    assert editor.translations(page, "fr") == []


async def test_an_unreachable_wagtail_is_a_cms_error(wagtail: WagtailInstance) -> None:
    from tests.helpers import free_port

    cms = config(wagtail, ["title"]).model_copy(update={"base_url": f"http://127.0.0.1:{free_port()}"})
    feed = WagtailFeed("site", cms, Secret(wagtail.token), page_type=PAGE_TYPE)
    try:
        with pytest.raises(CmsError) as caught:
            await feed.changes("en", None)
        assert caught.value.status is None and wagtail.token not in str(caught.value)
    finally:
        await feed.aclose()
