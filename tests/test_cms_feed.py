"""HttpFeed against a stand-in CMS, and one Syncer poll cycle through it.

The stand-in is a small Starlette app on a real uvicorn (127.0.0.1) that stands in for a
generic headless CMS wired up with ``kind: http``: it keeps entries per locale in a dict,
lists changes since a cursor in pages, reads one entry and writes one locale version. No
real CMS is needed; ``tests/cms`` runs the same code against a real Strapi.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from daemon.cms.config import CmsConfig
from daemon.cms.cursor import Cursor
from daemon.cms.feed import EPOCH, FeedItem, HttpFeed
from daemon.config import load_config
from daemon.errors import CmsError
from daemon.providers.base import GroupRef, JobRef, JobResult, Provider, SubmitRequest, WebhookEvent
from daemon.secrets import Secret
from daemon.state.store import StateStore
from daemon.syncer import Syncer
from tests.helpers import free_port, serve

pytestmark = pytest.mark.anyio

TOKEN = "tok-9f8e7d6c5b4a-secret"


def stamp(second: int) -> str:
    return f"2024-05-01T10:{second // 60:02d}:{second % 60:02d}.000Z"


@dataclass
class Seen:
    method: str
    path: str
    raw_path: str
    query: str
    """The raw query string, as sent on the wire."""
    params: dict[str, list[str]]
    authorization: str | None
    body: Any


@dataclass
class StandInCms:
    """The stand-in's state: entries per locale, the requests it saw, and a failure to answer with."""

    entries: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    fail: Response | None = None
    list_body: Any = None
    """When set, the list endpoint answers with exactly this JSON."""
    clock: int = 0
    broken: set[str] = field(default_factory=set)
    """Entry ids whose reads fail with a 500."""

    def reset(self) -> None:
        self.entries.clear()
        self.requests.clear()
        self.fail = self.list_body = None
        self.clock = 0
        self.broken.clear()

    def put(self, locale: str, entry_id: str, **fields: Any) -> None:
        self.clock += 1
        entry = self.entries.setdefault(locale, {}).setdefault(entry_id, {"id": entry_id})
        entry.update(fields)
        entry["updatedAt"] = stamp(self.clock)

    async def _seen(self, request: Request) -> None:
        raw = await request.body()
        query = request.scope["query_string"].decode("latin-1")
        self.requests.append(Seen(
            request.method, request.url.path, request.scope["raw_path"].decode("latin-1"), query, parse_qs(query, keep_blank_values=True),
            request.headers.get("authorization"), json.loads(raw) if raw else None,
        ))

    async def list_changes(self, request: Request) -> Response:
        await self._seen(request)
        if self.fail is not None:
            return self.fail
        if self.list_body is not None:
            return JSONResponse(self.list_body)
        params = request.query_params
        since = params.get("since", "")
        page, size = int(params.get("page", "1")), int(params.get("size", "100"))
        rows = sorted(
            (e for e in self.entries.get(request.path_params["locale"], {}).values() if e["updatedAt"] >= since),
            key=lambda e: (e["updatedAt"], e["id"]),
        )
        chunk = rows[(page - 1) * size : page * size]
        return JSONResponse({"result": {"rows": [{"key": e["id"], "meta": {"updated": e["updatedAt"]}} for e in chunk]}})

    async def entry(self, request: Request) -> Response:
        await self._seen(request)
        if self.fail is not None:
            return self.fail
        locale, entry_id = request.path_params["locale"], request.path_params["id"]
        if entry_id in self.broken:
            return JSONResponse({"error": "internal"}, 500)
        if request.method == "GET":
            found = self.entries.get(locale, {}).get(entry_id)
            return JSONResponse({"data": found}) if found is not None else JSONResponse({"error": "nf"}, 404)
        body = self.requests[-1].body
        self.put(locale, entry_id, **body.get("data", body))
        return JSONResponse({"data": self.entries[locale][entry_id]})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/{locale}/entries", self.list_changes, methods=["GET"]),
            Route("/api/{locale}/entries/{id}", self.entry, methods=["GET", "PUT", "PATCH", "POST"]),
            Route("/drafts/{locale}/entries/{id}", self.entry, methods=["GET"]),
        ])


def http_block(**overrides: Any) -> dict[str, Any]:
    return {
        "listUrl": "/api/{locale}/entries?since={cursor}&page={page}&size={pageSize}",
        "items": "result.rows",
        "id": "key",
        "updatedAt": "meta.updated",
        "pageSize": 2,
        "readUrl": "/api/{locale}/entries/{id}",
        "readTargetUrl": "/drafts/{locale}/entries/{id}",
        "entry": "data",
        "writeUrl": "/api/{locale}/entries/{id}",
        "writeMethod": "PATCH",
        "writeWrap": "data",
        **overrides,
    }


def cms_config(base_url: str, **http: Any) -> CmsConfig:
    return CmsConfig.model_validate(
        {"kind": "http", "baseUrl": base_url, "fields": ["title"], "http": http_block(**http)}
    )


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[StandInCms, str]]:
    """One stand-in server for the module (uvicorn's shutdown costs ~0.2 s); ``cms`` resets it per test."""
    state = StandInCms()
    async with serve(state.app()) as url:
        yield state, url


@pytest.fixture
def cms(running: tuple[StandInCms, str]) -> tuple[StandInCms, str]:
    running[0].reset()
    return running


@pytest.fixture
async def feed(cms: tuple[StandInCms, str]) -> AsyncIterator[HttpFeed]:
    client = HttpFeed("docs", cms_config(cms[1]), Secret(TOKEN))
    yield client
    await client.aclose()


def fill(state: StandInCms, count: int) -> None:
    for n in range(count):
        state.put("en", f"e{n}", title=f"Title {n}")


# --- changes() ----------------------------------------------------------------------------


async def test_changes_walks_pages_until_a_short_page(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    fill(state, 5)
    items = await feed.changes("en", None)
    assert items == [FeedItem(f"e{n}", stamp(n + 1)) for n in range(5)]
    assert [r.params["page"] for r in state.requests] == [["1"], ["2"], ["3"]]
    assert all(r.params["size"] == ["2"] and r.params["since"] == [EPOCH] for r in state.requests)
    assert all(r.path == "/api/en/entries" and r.method == "GET" for r in state.requests)


async def test_changes_asks_once_more_after_a_full_last_page(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    fill(state, 4)
    assert len(await feed.changes("en", None)) == 4
    assert [r.params["page"] for r in state.requests] == [["1"], ["2"], ["3"]]


async def test_changes_without_a_page_placeholder_asks_once(cms: tuple[StandInCms, str]) -> None:
    state, url = cms
    fill(state, 4)
    client = HttpFeed("docs", cms_config(url, listUrl="/api/{locale}/entries?since={cursor}&size={pageSize}"), None)
    try:
        assert len(await client.changes("en", None)) == 2
    finally:
        await client.aclose()
    assert len(state.requests) == 1


async def test_changes_since_a_cursor(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    fill(state, 5)
    assert [i.id for i in await feed.changes("en", stamp(4))] == ["e3", "e4"]
    assert state.requests[0].params["since"] == [stamp(4)]


@pytest.mark.parametrize(
    "cursor",
    ["2024-05-01T12:00:00.000+02:00", "opaque&page=99 ?#/é", "a+b%2Fc"],
)
async def test_changes_url_encodes_cursor_values(cms: tuple[StandInCms, str], feed: HttpFeed, cursor: str) -> None:
    state, _ = cms
    await feed.changes("pt-BR", cursor)
    (seen,) = state.requests
    assert seen.path == "/api/pt-BR/entries"
    assert seen.params["since"] == [cursor]  # arrives intact: nothing leaks into other parameters
    assert seen.params["page"] == ["1"]
    for raw in "+&?#/: ":
        if raw in cursor:
            assert raw not in seen.query.split("since=", 1)[1].split("&", 1)[0]


async def test_extra_query_parameters_are_added_to_the_template(cms: tuple[StandInCms, str]) -> None:
    state, url = cms
    fill(state, 1)
    config = CmsConfig.model_validate({
        "kind": "http", "baseUrl": url, "fields": ["title"], "query": {"filters[category][$eq]": "blog"},
        "http": http_block(pageSize=10),
    })
    client = HttpFeed("docs", config, None)
    try:
        await client.changes("en", stamp(1))
    finally:
        await client.aclose()
    (seen,) = state.requests
    assert seen.params["filters[category][$eq]"] == ["blog"]
    assert seen.params["since"] == [stamp(1)] and seen.params["page"] == ["1"]


@pytest.mark.parametrize("status", [500, 502, 401, 403])
async def test_changes_raises_on_http_errors_naming_the_source(
    cms: tuple[StandInCms, str], feed: HttpFeed, status: int
) -> None:
    state, _ = cms
    state.fail = JSONResponse({"error": "nope"}, status)
    with pytest.raises(CmsError) as info:
        await feed.changes("en", stamp(3))
    message = str(info.value)
    assert info.value.status == status and info.value.source == "docs"
    assert message.startswith("CMS source 'docs': list changes since ")
    assert f"HTTP {status}" in message
    assert ("check the API token" in message) == (status in (401, 403))
    assert TOKEN not in message
    assert state.requests[0].authorization == f"Bearer {TOKEN}"  # it was sent, and is not echoed


async def test_token_echoed_by_the_cms_does_not_reach_the_message(
    cms: tuple[StandInCms, str], feed: HttpFeed
) -> None:
    state, _ = cms
    state.fail = PlainTextResponse(f"invalid token {TOKEN}", 401)
    with pytest.raises(CmsError) as info:
        await feed.changes("en", None)
    assert TOKEN not in str(info.value)


async def test_changes_raises_on_non_json(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    state.fail = PlainTextResponse("<html>maintenance</html>", 200)
    with pytest.raises(CmsError) as info:
        await feed.changes("en", None)
    assert "CMS source 'docs'" in str(info.value) and "not JSON" in str(info.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"result": {}}, "expected a list at 'result.rows'"),
        ({"result": {"rows": {"key": "a"}}}, "expected a list at 'result.rows'"),
        ([], "expected a list at 'result.rows'"),
        ({"result": {"rows": [{"meta": {"updated": stamp(1)}}]}}, "lacks 'key' or 'meta.updated'"),
        ({"result": {"rows": [{"key": "a", "meta": {"updated": 17}}]}}, "lacks 'key' or 'meta.updated'"),
    ],
)
async def test_changes_raises_on_an_unexpected_answer(
    cms: tuple[StandInCms, str], feed: HttpFeed, body: Any, expected: str
) -> None:
    state, _ = cms
    state.list_body = body
    with pytest.raises(CmsError) as info:
        await feed.changes("en", None)
    assert "CMS source 'docs'" in str(info.value) and expected in str(info.value)


async def test_unreachable_cms_is_a_cms_error_without_status() -> None:
    client = HttpFeed("docs", cms_config(f"http://127.0.0.1:{free_port()}"), Secret(TOKEN))
    try:
        with pytest.raises(CmsError) as info:
            await client.changes("en", None)
    finally:
        await client.aclose()
    assert info.value.status is None
    assert "CMS source 'docs'" in str(info.value) and "no response" in str(info.value)
    assert TOKEN not in str(info.value)


# --- read() and write() -------------------------------------------------------------------


async def test_read_returns_the_entry_or_none_on_404(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    state.put("en", "e1", title="Hello")
    entry = await feed.read("e1", "en", target=False)
    assert entry is not None and entry["title"] == "Hello"
    assert await feed.read("e1", "de", target=False) is None
    assert await feed.read("missing", "en", target=False) is None
    assert [r.path for r in state.requests] == ["/api/en/entries/e1", "/api/de/entries/e1", "/api/en/entries/missing"]


async def test_read_of_a_target_uses_the_target_template(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    state.put("de", "e 1?x=2&y", title="Hallo")
    entry = await feed.read("e 1?x=2&y", "de", target=True)
    assert entry is not None and entry["title"] == "Hallo"
    (seen,) = state.requests
    assert seen.raw_path == "/drafts/de/entries/e%201%3Fx%3D2%26y"  # the id is URL-encoded, one segment
    assert seen.query == ""


async def test_read_raises_on_errors(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    state.fail = JSONResponse({"error": "boom"}, 500)
    with pytest.raises(CmsError) as info:
        await feed.read("e1", "de", target=True)
    assert str(info.value).startswith("CMS source 'docs': read e1 (de): HTTP 500")


async def test_write_sends_wrapped_fields_with_the_method_and_token(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    await feed.write("e1", "de", {"title": "Hallo", "seo": {"description": "Über"}})
    (seen,) = state.requests
    assert (seen.method, seen.path) == ("PATCH", "/api/de/entries/e1")
    assert seen.body == {"data": {"title": "Hallo", "seo": {"description": "Über"}}}
    assert seen.authorization == f"Bearer {TOKEN}"
    assert state.entries["de"]["e1"]["title"] == "Hallo"


async def test_write_without_wrap_sends_the_fields_alone(cms: tuple[StandInCms, str]) -> None:
    state, url = cms
    client = HttpFeed("docs", cms_config(url, writeWrap="", writeMethod="PUT"), None)
    try:
        await client.write("e1", "fr", {"title": "Bonjour"})
    finally:
        await client.aclose()
    (seen,) = state.requests
    assert (seen.method, seen.body, seen.authorization) == ("PUT", {"title": "Bonjour"}, None)


async def test_write_raises_on_a_rejected_write(cms: tuple[StandInCms, str], feed: HttpFeed) -> None:
    state, _ = cms
    state.fail = JSONResponse({"error": "validation"}, 400)
    with pytest.raises(CmsError) as info:
        await feed.write("e1", "de", {"title": "x"})
    assert str(info.value).startswith("CMS source 'docs': write e1 (de): HTTP 400")


# --- the Syncer: a poll queues submissions and moves the cursor ---------------------------


class NeverCalled(Provider):
    """poll_cms only queues submissions; the provider must not be touched."""

    name = "never"

    @classmethod
    def from_config(cls, config: Any, api_key: Secret) -> Provider:
        return cls()

    async def submit(self, request: SubmitRequest) -> GroupRef:
        raise AssertionError("submit called")

    async def get_group(self, group_id: str) -> GroupRef:
        raise AssertionError("get_group called")

    async def get_job(self, job_id: str) -> JobResult:
        raise AssertionError("get_job called")

    async def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        raise AssertionError("list_jobs called")
        yield  # pragma: no cover

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        raise AssertionError("parse_webhook called")

    async def check(self) -> None:
        raise AssertionError("check called")

    async def aclose(self) -> None:
        return None


SYNC_CONFIG = """\
sources:
  - name: docs
    cms:
      kind: http
      baseUrl: {url}
      fields: [title, seo.description]
      overlapSeconds: 5
      http:
        listUrl: /api/{{locale}}/entries?since={{cursor}}&page={{page}}&size={{pageSize}}
        items: result.rows
        id: key
        updatedAt: meta.updated
        readUrl: /api/{{locale}}/entries/{{id}}
        writeUrl: /api/{{locale}}/entries/{{id}}
    sourceLocale: en
    targetLocales: [de, fr]
git:
  enabled: false
"""


@asynccontextmanager
async def polling_syncer(tmp_path: Path, url: str) -> AsyncIterator[tuple[Syncer, StateStore, int]]:
    """A Syncer over the stand-in CMS (``SYNC_CONFIG``) with its state file; the CMS source's index."""
    (tmp_path / "locsync.yaml").write_text(SYNC_CONFIG.format(url=url))
    loaded = load_config(tmp_path / "locsync.yaml")
    store = StateStore(loaded.state_path)
    syncer = Syncer(loaded, store, NeverCalled(), callback_url=None, git=None)
    (index,) = syncer.cms
    try:
        yield syncer, store, index
    finally:
        await syncer.aclose()
        store.close()


async def test_syncer_poll_queues_changed_fields_and_saves_the_cursor(
    tmp_path: Path, cms: tuple[StandInCms, str]
) -> None:
    state, url = cms
    state.put("en", "a1", title="Hello", seo={"id": 4, "description": "About us"}, body="not translated")
    cursor_key = "cms_cursor:docs"
    async with polling_syncer(tmp_path, url) as (syncer, store, index):
        report = await syncer.poll_cms(index)
        assert report.errors == []
        (sub,) = store.pending_submissions()
        assert sub.document == "cms:docs/a1"
        assert sub.request["sourceLocale"] == "en"
        assert sorted(sub.request["targetLocales"]) == ["de", "fr"]
        assert sub.request["data"] == {"title": "Hello", "seo/description": "About us"}
        saved = Cursor.loads(store.get_meta(cursor_key))
        assert saved.position == state.entries["en"]["a1"]["updatedAt"]
        assert saved.seen == {"a1": saved.position}

        # nothing changed: the overlap re-lists the entry, the seen-set skips it
        listed = len(state.requests)
        report = await syncer.poll_cms(index)
        assert report.errors == [] and report.submitted_versions == []
        assert len(store.pending_submissions()) == 1
        assert any(r.path == "/api/en/entries" and r.params["since"] != [EPOCH] for r in state.requests[listed:])
        assert not any(r.path.endswith("/a1") for r in state.requests[listed:])  # the entry is not read again

        # one field changes in the CMS: exactly that key is queued
        state.put("en", "a1", seo={"id": 4, "description": "About us, now longer"})
        report = await syncer.poll_cms(index)
        assert report.errors == []
        assert report.submitted_versions == [("cms:docs/a1", 2)]
        _, second = store.pending_submissions()
        assert second.document == "cms:docs/a1" and second.version == 2
        assert second.request["data"] == {"seo/description": "About us, now longer"}
        assert Cursor.loads(store.get_meta(cursor_key)).position == state.entries["en"]["a1"]["updatedAt"]
        assert not any(r.method != "GET" for r in state.requests)  # a poll never writes to the CMS


async def test_syncer_poll_keeps_the_cursor_when_the_feed_fails(tmp_path: Path, cms: tuple[StandInCms, str]) -> None:
    state, url = cms
    state.put("en", "a1", title="Hello")
    async with polling_syncer(tmp_path, url) as (syncer, store, index):
        state.fail = JSONResponse({"error": "down"}, 503)
        report = await syncer.poll_cms(index)
        assert len(report.errors) == 1 and "CMS source 'docs'" in report.errors[0]
        assert store.pending_submissions() == [] and store.get_meta("cms_cursor:docs") is None
        state.fail = None
        await syncer.poll_cms(index)
        assert len(store.pending_submissions()) == 1


async def test_syncer_poll_moves_the_cursor_only_past_entries_handled_in_full(
    tmp_path: Path, cms: tuple[StandInCms, str]
) -> None:
    state, url = cms
    state.put("en", "a1", title="One")
    state.put("en", "a2", title="Two")
    state.put("en", "a3", title="Three")
    state.broken.add("a2")
    async with polling_syncer(tmp_path, url) as (syncer, store, index):
        report = await syncer.poll_cms(index)
        assert len(report.errors) == 1 and "read a2 (en): HTTP 500" in report.errors[0]
        assert [s.document for s in store.pending_submissions()] == ["cms:docs/a1"]  # a3 waits behind a2
        cursor = Cursor.loads(store.get_meta("cms_cursor:docs"))
        assert cursor.position == state.entries["en"]["a1"]["updatedAt"]

        state.broken.clear()
        report = await syncer.poll_cms(index)
        assert report.errors == []
        assert [s.document for s in store.pending_submissions()] == ["cms:docs/a1", "cms:docs/a2", "cms:docs/a3"]
        cursor = Cursor.loads(store.get_meta("cms_cursor:docs"))
        assert cursor.position == state.entries["en"]["a3"]["updatedAt"]


async def test_syncer_poll_retries_an_entry_that_failed_without_blocking_the_feed(
    tmp_path: Path, cms: tuple[StandInCms, str]
) -> None:
    """A bad entry (here a list where text is expected) must not stop later entries, and must be
    looked at again on the next polls (after a config or CMS fix), though the feed no longer lists it."""
    state, url = cms
    state.put("en", "a1", title=["not", "text"])
    state.put("en", "a2", title="Two")
    async with polling_syncer(tmp_path, url) as (syncer, store, index):
        report = await syncer.poll_cms(index)
        assert len(report.errors) == 1 and "field 'title'" in report.errors[0]
        assert [s.document for s in store.pending_submissions()] == ["cms:docs/a2"]  # a2 not blocked
        cursor = Cursor.loads(store.get_meta("cms_cursor:docs"))
        assert cursor.retry == ["a1"] and cursor.position == state.entries["en"]["a2"]["updatedAt"]

        report = await syncer.poll_cms(index)  # still broken: reported again, still queued for retry
        assert len(report.errors) == 1
        assert Cursor.loads(store.get_meta("cms_cursor:docs")).retry == ["a1"]

        state.entries["en"]["a1"]["title"] = "One"  # fixed without a new updatedAt
        report = await syncer.poll_cms(index)
        assert report.errors == []
        assert [s.document for s in store.pending_submissions()] == ["cms:docs/a2", "cms:docs/a1"]
        assert Cursor.loads(store.get_meta("cms_cursor:docs")).retry == []
