"""Provider faults from the reference engine's knobs: the daemon queues, backs off, keeps its key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import SOURCE, EngineProcess, Project
from tests.helpers import wait_until


def test_bursts_of_5xx_quota_malformed_bodies_timeouts_and_unknown_statuses(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        engine.knobs(
            unknown_status="reviewing",
            latency_seconds=0.3,
            faults=[
                {"method": "POST", "path": "/jobs/localization", "kind": "status", "status": 503, "count": 2},
                {"method": "POST", "path": "/jobs/localization", "kind": "status", "status": 429, "retry_after": 1},
                {"method": "POST", "path": "/jobs/localization", "kind": "malformed"},
                {"method": "GET", "path": "/jobs/localization/groups", "kind": "hang", "hang_seconds": 3},
                {"method": "GET", "path": "/jobs/localization/groups", "kind": "status", "status": 500, "count": 2},
            ],
        )
        provider = {"kind": "lingo", "baseUrl": engine.url, "timeoutSeconds": 1}
        project = Project(tmp_path / "repo", provider=provider)
        result = project.cli("sync", "--once", timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        assert project.read("de")["cart"]["items"] == pseudo_translate("You have {count} items", "de")
        events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        failures = [e for e in events if e["event"] == "submission_failed"]
        assert [e["status"] for e in failures] == [503, 503, 429, 200]
        assert failures[2]["retry_in"] >= 1  # Retry-After honoured
        keys = {e["idempotency_key"] for e in failures} | {
            e["idempotency_key"] for e in events if e["event"] == "job_group_submitted"}
        assert len(keys) == 1  # never a new key on retry
        assert any(e["event"] == "provider_unreachable" and "timeout" in e["error"] for e in events)
        stats = engine.stats()
        assert stats["groups_created"] == 1 and stats["idempotency_conflicts"] == 0
        assert engine.knobs()["faults"] == []  # every injected fault was actually hit
    finally:
        engine.stop()


def test_provider_down_for_a_while_the_daemon_keeps_queueing_and_says_why(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    project = Project(tmp_path / "repo", provider={"kind": "lingo", "baseUrl": engine.url, "timeoutSeconds": 2})
    daemon = project.run("run")
    try:
        daemon.wait_event("git_committed")
        engine.stop()
        edited = copy.deepcopy(SOURCE)
        edited["cart"]["empty"] = "Still nothing here"
        project.write_source(edited)
        daemon.wait_event("submission_failed", count=2)
        status = project.cli("status")
        assert "waiting: locales/[locale].json v2: lingo: no response: ConnectError" in status.stdout
        assert daemon.proc.poll() is None

        engine.start()
        expected = pseudo_translate("Still nothing here", "fr")
        wait_until(lambda: project.read("fr").get("cart", {}).get("empty") == expected, timeout=60)
        daemon.wait_event("git_committed", count=2, timeout=60)
        assert engine.stats()["groups_created"] == 2
    finally:
        assert daemon.stop() == 0
        engine.stop()
