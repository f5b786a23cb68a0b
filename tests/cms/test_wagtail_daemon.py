"""``locsync run`` with a real Wagtail 8 as its source, end to end.

A published English article becomes its ``de`` and ``fr`` translations (pages made by
copy_for_translation, saved as drafts); one edited field becomes one updated field per locale;
an editor's French change survives; the daemon's own writes start no new jobs. Wagtail has no
webhooks, so the poll (``pollSeconds: 0.5``) finds every change.

Skipped until ``kind: wagtail`` exists in ``daemon.cms.config`` and ``open_cms_source`` picks
``WagtailFeed`` for it; the config below is exactly what it needs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.engine.translators.pseudo import pseudo_translate
from tests.cms.cms_daemon import CmsDaemon
from tests.cms.wagtail_fixture import WagtailInstance, wagtail_session  # noqa: F401 (the fixture)
from tests.e2e.harness import EngineProcess
from tests.helpers import wait_until

API = "/api/v3"
PAGE_TYPE = "home.ArticlePage"
BODY = "<h2>Welcome</h2><p>First paragraph of the article.</p><p>Second paragraph, with <b>bold</b> text.</p>"


class Cms:
    """The editor's side: API v3 with the session's token."""

    def __init__(self, wagtail: WagtailInstance) -> None:
        self.wagtail = wagtail
        self.api = httpx.Client(base_url=wagtail.url, headers={"Authorization": f"Bearer {wagtail.token}"}, timeout=30)

    def create(self, parent: int, **fields: Any) -> str:
        meta = {"type": PAGE_TYPE, "parent_id": parent, "action": "publish"}
        slug = f"e2e-{time.time_ns()}"
        response = self.api.post(f"{API}/pages/", json={"meta": meta, "slug": slug, **fields})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def edit(self, page_id: str | int, fields: dict[str, Any], *, publish: bool = True) -> None:
        meta = {"action": "publish"} if publish else {}
        response = self.api.patch(f"{API}/pages/{page_id}/", json={"meta": meta, **fields})
        assert response.status_code == 200, response.text

    def translation(self, page_id: str, locale: str, fmt: str = "db_markdown") -> dict[str, Any] | None:
        found = self.api.get(f"{API}/pages/", params={"translation_of": page_id, "locale": locale}).json()["items"]
        if not found:
            return None
        page: dict[str, Any] = self.api.get(f"{API}/pages/{found[0]['id']}/",
                                            params={"version": "draft", "rich_text_format": fmt}).json()
        return page


@pytest.fixture
def cms(wagtail: WagtailInstance) -> Iterator[Cms]:
    client = Cms(wagtail)
    yield client
    client.api.close()


class Daemon(CmsDaemon):
    """A content folder whose only source is the Wagtail page type, and ``locsync run`` on it."""

    def __init__(self, root: Path, wagtail: WagtailInstance, engine: EngineProcess, folder: int, **cms: Any) -> None:
        block = {
            "kind": "wagtail", "baseUrl": wagtail.url, "pageType": PAGE_TYPE,
            "fields": ["title", "intro", {"path": "body", "kind": "markdown"}],
            "apiTokenEnv": "WAGTAIL_TOKEN",
            "pollSeconds": 0.5,
            "query": {"child_of": str(folder)},  # only this test's pages
            **cms,
        }
        super().__init__(root, engine, f"pages-{time.time_ns()}", block, {"WAGTAIL_TOKEN": wagtail.token})


def translated(cms: Cms, page: str, locale: str, title: str) -> bool:
    entry = cms.translation(page, locale)
    return entry is not None and entry["title"] == pseudo_translate(title, locale)


def test_published_page_is_translated_edits_flow_and_editors_win(
    tmp_path: Path, wagtail: WagtailInstance, cms: Cms, engine: EngineProcess
) -> None:
    folder = int(cms.create(wagtail.parent_id, title="E2E folder"))
    setup = Daemon(tmp_path / "site", wagtail, engine, folder)
    daemon = setup.run()
    try:
        page = cms.create(folder, title="Welcome aboard", intro="A short intro", body=BODY)
        wait_until(lambda: translated(cms, page, "de", "Welcome aboard") and translated(cms, page, "fr", "Welcome aboard"),
                   timeout=60)
        for locale in ("de", "fr"):
            entry = cms.translation(page, locale)
            assert entry is not None
            assert pseudo_translate("First paragraph of the article.", locale) in entry["body"]
            assert entry["intro"] == pseudo_translate("A short intro", locale)
            assert entry["meta"]["first_published_at"] is None  # written as a draft (writeStatus: draft)
        first = [e for e in daemon.events("submission_queued") if e["document"].endswith(f"/{page}")]
        assert len(first) == 1
        groups = engine.stats()["groups_created"]

        # one field edited and published: one key sent, one field updated per locale
        fr_body = cms.translation(page, "fr")["body"]  # type: ignore[index]
        cms.edit(page, {"title": "Welcome on board"})
        wait_until(lambda: translated(cms, page, "de", "Welcome on board") and translated(cms, page, "fr", "Welcome on board"),
                   timeout=60)
        queued = [e for e in daemon.events("submission_queued") if e["document"].endswith(f"/{page}")]
        assert len(queued) == 2 and queued[-1]["keys"] == 1
        assert cms.translation(page, "fr")["body"] == fr_body  # type: ignore[index]
        assert engine.stats()["groups_created"] == groups + 1

        # an editor rewrites the French intro; then the English intro changes: French keeps the editor's text
        fr = cms.translation(page, "fr")
        assert fr is not None
        cms.edit(fr["id"], {"intro": "Écrit par la rédaction"}, publish=False)
        cms.edit(page, {"intro": "A new intro"})
        wait_until(lambda: cms.translation(page, "de")["intro"] == pseudo_translate("A new intro", "de"),  # type: ignore[index]
                   timeout=60)
        third = [e for e in daemon.events("submission_queued") if e["document"].endswith(f"/{page}")][-1]
        assert third["locales"] == ["de"] and third["keys"] == 1
        assert cms.translation(page, "fr")["intro"] == "Écrit par la rédaction"  # type: ignore[index]

        # our own writes come back through the feed as nothing new: later polls send nothing
        groups = engine.stats()["groups_created"]
        polls = len(daemon.events("cms_polled"))
        daemon.wait_event("cms_polled", count=polls + 2)
        assert engine.stats()["groups_created"] == groups
    finally:
        assert daemon.stop() == 0
