"""``locsync run`` with a real Strapi 5 as its source, end to end.

A published English article becomes its ``de`` and ``fr`` localized versions in Strapi; one
edited field becomes one updated field per locale; an editor's French change survives; the
daemon's own writes start no new jobs; a kill between submitting and receiving loses and
duplicates nothing. The reference engine runs as its own process (its counters prove the
job groups), and Strapi's webhooks reach the daemon as poll hints.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.engine.translators.pseudo import pseudo_translate
from tests.cms.cms_daemon import CmsDaemon
from tests.cms.strapi_fixture import StrapiInstance
from tests.e2e.harness import EngineProcess
from tests.helpers import wait_until

pytestmark = [pytest.mark.strapi]

HOOK_SECRET = "hook-secret-for-the-e2e-test"
BODY = "# Welcome\n\nFirst paragraph of the article.\n\nSecond paragraph, with **bold** text.\n"


class Cms:
    """The editor's side: Strapi's content API with the session's API token."""

    def __init__(self, strapi: StrapiInstance) -> None:
        self.strapi = strapi
        self.api = httpx.Client(base_url=strapi.url, headers={"Authorization": f"Bearer {strapi.api_token}"}, timeout=30)

    def create_published(self, **fields: Any) -> str:
        response = self.api.post("/api/articles", params={"status": "draft"}, json={"data": fields})
        assert response.status_code == 201, response.text
        doc: str = response.json()["data"]["documentId"]
        self.put(doc, {}, status="published")
        return doc

    def put(self, doc: str, data: dict[str, Any], **params: str) -> dict[str, Any]:
        response = self.api.put(f"/api/articles/{doc}", params=params, json={"data": data})
        assert response.status_code == 200, response.text
        entry: dict[str, Any] = response.json()["data"]
        return entry

    def get(self, doc: str, locale: str, status: str = "draft") -> dict[str, Any] | None:
        response = self.api.get(f"/api/articles/{doc}", params={"locale": locale, "status": status})
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        entry: dict[str, Any] = response.json()["data"]
        return entry


@pytest.fixture
def cms(strapi_instance: StrapiInstance) -> Iterator[Cms]:
    client = Cms(strapi_instance)
    yield client
    client.api.close()


class Daemon(CmsDaemon):
    """A content folder whose only source is the Strapi collection, and ``locsync run`` on it."""

    def __init__(self, root: Path, strapi: StrapiInstance, engine: EngineProcess, **cms: Any) -> None:
        name = f"articles-{time.time_ns()}"
        self.slugs = f"{name}-"  # the daemon sees only this test's articles (cms.query)
        block = {
            "kind": "strapi", "baseUrl": strapi.url, "collection": "articles",
            "fields": ["title", {"path": "body", "kind": "markdown"}],
            "apiTokenEnv": "STRAPI_TOKEN", "webhookSecretEnv": "STRAPI_HOOK_SECRET",
            "pollSeconds": 30, "query": {"filters[slug][$startsWith]": self.slugs}, **cms,
        }
        super().__init__(root, engine, name, block,
                         {"STRAPI_TOKEN": strapi.api_token, "STRAPI_HOOK_SECRET": HOOK_SECRET})
        self.hook_url = f"http://127.0.0.1:{self.port}/webhooks/cms/{self.name}"


def register_hook(strapi: StrapiInstance, url: str) -> int:
    """A Strapi webhook to the daemon with the shared header: edits wake the poll at once."""
    response = httpx.post(
        f"{strapi.url}/admin/webhooks", headers={"Authorization": f"Bearer {strapi.admin_jwt}"}, timeout=30,
        json={"name": f"locsync-{time.time_ns()}", "url": url, "headers": {"X-Hook-Secret": HOOK_SECRET},
              "events": ["entry.create", "entry.update", "entry.publish", "entry.unpublish", "entry.delete"]},
    )
    assert response.status_code == 201, response.text
    hook_id: int = response.json()["data"]["id"]
    return hook_id


def delete_hook(strapi: StrapiInstance, hook_id: int) -> None:
    httpx.delete(f"{strapi.url}/admin/webhooks/{hook_id}", headers={"Authorization": f"Bearer {strapi.admin_jwt}"})


def translated(cms: Cms, doc: str, locale: str, title: str) -> bool:
    entry = cms.get(doc, locale)
    return entry is not None and entry["title"] == pseudo_translate(title, locale)


def test_published_entry_is_localized_edits_flow_and_editors_win(
    tmp_path: Path, strapi_instance: StrapiInstance, cms: Cms, engine: EngineProcess
) -> None:
    setup = Daemon(tmp_path / "site", strapi_instance, engine)
    hook = register_hook(strapi_instance, setup.hook_url)
    daemon = setup.run()
    try:
        doc = cms.create_published(title="Welcome aboard", body=BODY, slug=f"{setup.slugs}welcome")
        # the webhook hint wakes the poll: no waiting for pollSeconds (30 s)
        wait_until(lambda: translated(cms, doc, "de", "Welcome aboard") and translated(cms, doc, "fr", "Welcome aboard"),
                   timeout=60)
        for locale in ("de", "fr"):
            entry = cms.get(doc, locale)
            assert entry is not None
            assert pseudo_translate("First paragraph of the article.", locale) in entry["body"]
            assert entry["body"].startswith("# " + pseudo_translate("Welcome", locale) + "\n\n")
            assert entry["publishedAt"] is None  # written as a draft for review (writeStatus: draft)
        first = daemon.events("submission_queued")
        assert len([e for e in first if e["document"].endswith(doc)]) == 1
        groups = engine.stats()["groups_created"]

        # one field edited and published: one key sent, one field updated per locale
        fr_body_before = cms.get(doc, "fr")["body"]  # type: ignore[index]
        cms.put(doc, {"title": "Welcome on board"}, status="published")
        wait_until(lambda: translated(cms, doc, "de", "Welcome on board") and translated(cms, doc, "fr", "Welcome on board"),
                   timeout=60)
        queued = [e for e in daemon.events("submission_queued") if e["document"].endswith(doc)]
        assert len(queued) == 2 and queued[-1]["keys"] == 1
        assert cms.get(doc, "fr")["body"] == fr_body_before  # type: ignore[index]
        assert engine.stats()["groups_created"] == groups + 1

        # an editor rewrites the French body; then the English body changes: French keeps the editor's text
        edited = "# Bienvenue\n\nTexte écrit par la rédaction.\n\nDeuxième paragraphe, écrit à la main.\n"
        cms.put(doc, {"body": edited}, locale="fr", status="draft")
        cms.put(doc, {"body": BODY.replace("First paragraph", "Opening paragraph")}, status="published")
        wait_until(lambda: pseudo_translate("Opening paragraph of the article.", "de") in cms.get(doc, "de")["body"],  # type: ignore[index]
                   timeout=60)
        # the scan saw the French edit before sending: the new version goes to de only
        third = [e for e in daemon.events("submission_queued") if e["document"].endswith(doc)][-1]
        assert third["locales"] == ["de"] and third["keys"] == 1
        kept = {e["key"] for e in daemon.events("manual_edit_kept") if e["locale"] == "fr"}
        assert kept == {"body/body/top/1", "body/body/top/2", "body/body/top/3"}
        assert cms.get(doc, "fr")["body"] == edited  # type: ignore[index]

        # our own writes come back through the feed as nothing new: a poll after them sends nothing
        groups = engine.stats()["groups_created"]
        polls = len(daemon.events("cms_polled"))
        assert httpx.post(setup.hook_url, headers={"X-Hook-Secret": HOOK_SECRET}, json={}).status_code == 202
        daemon.wait_event("cms_polled", count=polls + 1)
        assert engine.stats()["groups_created"] == groups
        assert len([e for e in daemon.events("submission_queued") if e["document"].endswith(doc)]) == 3
        # a hint without the shared secret is refused and wakes nothing
        assert httpx.post(setup.hook_url, headers={"X-Hook-Secret": "guess"}, json={}).status_code == 401
        status = subprocess.run([sys.executable, "-m", "daemon", "status", "-c", str(setup.config_path)],
                                capture_output=True, text=True, env=setup.env, cwd=setup.root, timeout=60)
        assert f"cms:{setup.name}/{doc}: 2 of 2 languages ready" in status.stdout, status.stdout + status.stderr
        assert strapi_instance.api_token not in status.stdout + status.stderr
    finally:
        assert daemon.stop() == 0
        delete_hook(strapi_instance, hook)


def test_kill_between_submit_and_results_loses_and_duplicates_nothing(
    tmp_path: Path, strapi_instance: StrapiInstance, cms: Cms, engine: EngineProcess
) -> None:
    setup = Daemon(tmp_path / "site", strapi_instance, engine, pollSeconds=0.5)
    engine.knobs(pause_deliveries=True, pause_processing=True)
    daemon = setup.run()
    doc = cms.create_published(title="Crash course", body="Short body.\n", slug=f"{setup.slugs}crash")
    daemon.wait_event("job_group_submitted", lambda e: e["document"].endswith(doc), timeout=60)
    daemon.stop(signal.SIGKILL)
    assert engine.stats()["groups_created"] == 1

    engine.knobs(pause_deliveries=False, pause_processing=False)
    daemon = setup.run()
    try:
        wait_until(lambda: translated(cms, doc, "de", "Crash course") and translated(cms, doc, "fr", "Crash course"),
                   timeout=60)
        applied = [e for e in daemon.events("result_applied") if e["document"].endswith(doc)]
        wait_until(lambda: len([e for e in daemon.events("result_applied") if e["document"].endswith(doc)]) >= 2)
        applied = [e for e in daemon.events("result_applied") if e["document"].endswith(doc)]
        assert sorted(e["locale"] for e in applied) == ["de", "fr"]
    finally:
        assert daemon.stop() == 0
    stats = engine.stats()
    assert stats["groups_created"] == 1 and stats["idempotency_conflicts"] == 0


def test_generic_http_feed_wires_strapi_from_yaml_alone(tmp_path: Path, strapi_instance: StrapiInstance, cms: Cms) -> None:
    """``kind: http``: the same Strapi, described only by URL templates and JSON paths.

    ``locsync sync --once`` (the CI path) with the embedded engine: the entry is localized
    and published (this config writes ``status=published``), and a second run sends nothing.
    """
    root = tmp_path / "site"
    root.mkdir()
    for command in (["init", "-q", "-b", "main"], ["config", "user.name", "T"], ["config", "user.email", "t@x"],
                    ["commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(["git", "-C", str(root), *command], check=True)
    name = f"generic-{time.time_ns()}"
    api = "/api/articles"
    config = {
        "sources": [{
            "name": name, "sourceLocale": "en", "targetLocales": ["de", "fr"],
            "cms": {
                "kind": "http", "baseUrl": strapi_instance.url, "fields": ["title"], "apiTokenEnv": "STRAPI_TOKEN",
                "mirror": "cms/[locale]/{id}.json",  # translations also committed to git for review
                "http": {
                    "listUrl": api + "?locale={locale}&status=draft&filters[updatedAt][$gte]={cursor}"
                               f"&filters[slug][$startsWith]={name}-"
                               "&sort[0]=updatedAt:asc&pagination[page]={page}&pagination[pageSize]={pageSize}",
                    "pageSize": 2,  # several pages
                    "items": "data", "id": "documentId", "updatedAt": "updatedAt",
                    "readUrl": api + "/{id}?locale={locale}&status=published",
                    "readTargetUrl": api + "/{id}?locale={locale}&status=draft",
                    "entry": "data",
                    "writeUrl": api + "/{id}?locale={locale}&status=published", "writeMethod": "PUT", "writeWrap": "data",
                },
            },
        }],
        "provider": {"kind": "embedded"},
        "server": {"port": 0},
        "state": {"path": "../state/state.db"},
    }
    config_path = root / "locsync.yaml"
    config_path.write_text(json.dumps(config))
    env = {**os.environ, "STRAPI_TOKEN": strapi_instance.api_token}
    doc = cms.create_published(title="Generic feeds work", body="Body.\n", slug=f"{name}-1")
    others = [cms.create_published(title=f"Generic {n}", body="Body.\n", slug=f"{name}-{n}") for n in (2, 3)]

    def once() -> dict[str, Any]:
        result = subprocess.run([sys.executable, "-m", "daemon", "--log-format", "json", "sync", "--once",
                                 "-c", str(config_path)], capture_output=True, text=True, env=env, cwd=root, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        events = [json.loads(line) for line in result.stderr.splitlines() + result.stdout.splitlines()
                  if line.startswith("{")]
        return {"queued": [e for e in events if e.get("event") == "submission_queued"],
                "polled": [e for e in events if e.get("event") == "cms_polled"]}

    first = once()
    assert sorted(e["document"] for e in first["queued"]) == sorted(f"cms:{name}/{d}" for d in [doc, *others])
    for locale in ("de", "fr"):
        live = cms.get(doc, locale, status="published")
        assert live is not None and live["title"] == pseudo_translate("Generic feeds work", locale)
    assert api_token_absent(first, strapi_instance.api_token)
    for locale in ("de", "fr"):
        mirrored = json.loads((root / "cms" / locale / f"{doc}.json").read_text(encoding="utf-8"))
        assert mirrored == {"title": pseudo_translate("Generic feeds work", locale)}
    committed = subprocess.run(["git", "-C", str(root), "show", "--name-only", "--format=%s", "HEAD"],
                               capture_output=True, text=True, check=True).stdout.split()
    assert f"cms/de/{doc}.json" in committed and f"cms/fr/{doc}.json" in committed
    assert "locsync.yaml" not in committed  # only what locsync wrote
    second = once()
    assert second["queued"] == [] and second["polled"][0]["changed"] == 0


def api_token_absent(events: dict[str, Any], token: str) -> bool:
    return token not in json.dumps(events)


SUMMARY = [
    {"type": "paragraph", "children": [
        {"type": "text", "text": "Hello "}, {"type": "text", "text": "world", "bold": True},
        {"type": "text", "text": ", see "},
        {"type": "link", "url": "https://example.com/docs", "children": [{"type": "text", "text": "the docs"}]},
        {"type": "text", "text": "."},
    ]},
    {"type": "list", "format": "unordered", "children": [
        {"type": "list-item", "children": [{"type": "text", "text": "First point"}]},
        {"type": "list-item", "children": [{"type": "text", "text": "Second point"}]},
    ]},
]


def test_blocks_rich_text_and_component_fields(
    tmp_path: Path, strapi_instance: StrapiInstance, cms: Cms, engine: EngineProcess
) -> None:
    """Strapi's JSON "blocks" (one segment per paragraph or list item, marks and links as tags)
    and a field inside a component (``seo.description``), whose untranslated sibling is kept."""
    fields = ["title", {"path": "summary", "kind": "blocks"}, "seo.description"]
    setup = Daemon(tmp_path / "site", strapi_instance, engine, fields=fields, pollSeconds=0.5)
    daemon = setup.run()
    try:
        doc = cms.create_published(title="Blocks", summary=SUMMARY, slug=f"{setup.slugs}blocks",
                                   seo={"description": "A page about blocks", "keywords": "blocks, strapi"})
        wait_until(lambda: translated(cms, doc, "de", "Blocks") and translated(cms, doc, "fr", "Blocks"), timeout=60)
        de = cms.api.get(f"/api/articles/{doc}", params={"locale": "de", "status": "draft", "populate": "*"}).json()["data"]
        paragraph = de["summary"][0]["children"]
        p = lambda text: pseudo_translate(text, "de")  # noqa: E731
        assert paragraph[0] == {"type": "text", "text": p("Hello <b>world</b>, see <a id=\"0\">the docs</a>.")
                                .split("<b>")[0]}
        assert {"type": "text", "text": p("Hello <b>world</b>").split("<b>")[1].split("</b>")[0], "bold": True} in paragraph
        link = next(node for node in paragraph if node["type"] == "link")
        assert link["url"] == "https://example.com/docs" and link["children"][0]["text"] != "the docs"
        items = de["summary"][1]["children"]
        assert [item["children"][0]["text"] for item in items] == [p("First point"), p("Second point")]
        assert de["seo"]["description"] == p("A page about blocks")
        assert de["seo"]["keywords"] == "blocks, strapi"  # not a configured field: copied, not translated

        # one list item edited: one segment sent
        edited = json.loads(json.dumps(SUMMARY))
        edited[1]["children"][1]["children"][0]["text"] = "Second point, revised"
        cms.put(doc, {"summary": edited}, status="published")
        wait_until(lambda: cms.get(doc, "fr") is not None and pseudo_translate("Second point, revised", "fr") in json.dumps(
            cms.get(doc, "fr")["summary"], ensure_ascii=False), timeout=60)  # type: ignore[index]
        last = [e for e in daemon.events("submission_queued") if e["document"].endswith(doc)][-1]
        assert last["keys"] == 1
    finally:
        assert daemon.stop() == 0
