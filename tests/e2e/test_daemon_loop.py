"""The core loop through real subprocesses: save a source file, get one commit per change."""

from __future__ import annotations

import copy
import json
import signal
import time
from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import SOURCE, EngineProcess, Project, git


def test_editing_one_key_produces_one_commit_with_exactly_that_key(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    daemon = project.run("run")
    try:
        daemon.wait_event("git_committed")
        assert project.read("de")["cart"]["items"] == pseudo_translate("You have {count} items", "de")
        before = project.commits()

        edited = copy.deepcopy(SOURCE)
        edited["cart"]["empty"] = "Nothing in your cart yet"
        saved_at = time.monotonic()
        project.write_source(edited)
        daemon.wait_event("git_committed", count=2)
        save_to_commit = time.monotonic() - saved_at

        commits = project.commits()
        assert len(commits) == len(before) + 1
        numstat = git(project.root, "show", "--numstat", "--format=", "HEAD").split("\n")
        assert sorted(line for line in numstat if line) == ["1\t1\tlocales/de.json", "1\t1\tlocales/fr.json"]
        diff = git(project.root, "show", "--format=", "-U0", "HEAD")
        added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        assert added == [
            f'+    "empty": {json.dumps(pseudo_translate("Nothing in your cart yet", "de"), ensure_ascii=False)},',
            f'+    "empty": {json.dumps(pseudo_translate("Nothing in your cart yet", "fr"), ensure_ascii=False)},',
        ]
        message = git(project.root, "log", "-1", "--format=%an%n%B")
        assert message.startswith("locsync\nlocsync: update locales/[locale].json (de, fr)")
        assert "Locsync-Group: ljg_" in message
        print(f"save-to-commit: {save_to_commit:.2f}s (debounce 0.05s, batch window 0.3s)")
    finally:
        assert daemon.stop() == 0
    assert daemon.events("daemon_stopped")


def test_manual_edit_survives_the_next_sync(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    daemon = project.run("run")
    try:
        daemon.wait_event("git_committed")
        de = project.read("de")
        de["home"]["title"] = "Willkommen bei {appName}"
        (project.root / "locales/de.json").write_text(json.dumps(de, indent=2, ensure_ascii=False) + "\n")
        git(project.root, "commit", "-qam", "translator fixes the German title")

        edited = copy.deepcopy(SOURCE)
        edited["cart"]["checkout"] = "Pay now"
        edited["home"]["subtitle"] = "Everything in step, always."
        project.write_source(edited)
        daemon.wait_event("git_committed", count=2)
        de = project.read("de")
        assert de["home"]["title"] == "Willkommen bei {appName}"
        assert de["cart"]["checkout"] == pseudo_translate("Pay now", "de")
        assert daemon.events("manual_edit_kept")
    finally:
        assert daemon.stop() == 0
    why = project.cli("why", str(project.root / "locales/de.json"), "home/title")
    assert "provenance: human" in why.stdout, why.stdout + why.stderr
    why = project.cli("why", str(project.root / "locales/de.json"), "cart/checkout")
    assert "provenance: machine" in why.stdout and "job: ljb_" in why.stdout


def test_malformed_source_names_file_and_line_and_writes_nothing(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    project.write_source({}, raw='{\n  "home": {\n    "title": "Hi",\n  }\n}\n')
    git(project.root, "commit", "-qam", "broken source")
    before = project.commits()
    result = project.cli("sync", "--once")
    assert result.returncode == 1
    assert "locales/en.json:4" in result.stderr
    assert not (project.root / "locales/de.json").exists()
    assert project.commits() == before

    daemon = project.run("run")
    try:
        event = daemon.wait_event("source_invalid")
        assert "locales/en.json:4" in event["error"]
        project.write_source(SOURCE)
        daemon.wait_event("git_committed")
        assert project.read("fr")["cart"]["empty"] == pseudo_translate("Your cart is empty", "fr")
    finally:
        daemon.stop()


def test_daemon_killed_between_submit_and_delivery_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        engine.knobs(pause_deliveries=True, pause_processing=True)
        project = Project(tmp_path / "repo", provider=engine.lingo_provider(),
                          server={"port": 0, "publicUrl": "http://127.0.0.1:1"})
        # a fixed port so the callback URL stays valid across the restart
        from tests.helpers import free_port

        port = free_port()
        config = json.loads(project.config_path.read_text())
        config["server"] = {"port": port, "publicUrl": f"http://127.0.0.1:{port}"}
        project.config_path.write_text(json.dumps(config))

        for sig in (signal.SIGKILL, signal.SIGTERM):
            daemon = project.run("run")
            daemon.wait_event("job_group_submitted") if sig == signal.SIGKILL else daemon.wait_event("daemon_ready")
            daemon.stop(sig)
        assert engine.stats()["groups_created"] == 1

        engine.knobs(pause_deliveries=False, pause_processing=False)
        daemon = project.run("run")
        try:
            daemon.wait_event("git_committed")
            assert project.read("de")["home"]["subtitle"] == pseudo_translate("Everything in step.", "de")
            assert project.read("fr")["home"]["subtitle"] == pseudo_translate("Everything in step.", "fr")
            applied = daemon.events("result_applied")
            assert sorted(e["locale"] for e in applied) == ["de", "fr"]
        finally:
            assert daemon.stop() == 0
        stats = engine.stats()
        assert stats["groups_created"] == 1 and stats["idempotency_conflicts"] == 0
        trailers = git(project.root, "log", "--format=%(trailers:key=Locsync-Group,valueonly)").split()
        assert len(trailers) == 1 and trailers[0].startswith("ljg_")
    finally:
        engine.stop()
