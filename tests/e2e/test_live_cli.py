"""``status --follow``, ``jobs list``/``jobs show`` and ``retry`` against the reference engine."""

from __future__ import annotations

import copy
import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import SOURCE, EngineProcess, Project

LOCALES = ["de", "fr", "ja", "es"]


class Lines:
    """A subprocess whose stdout lines are read by a thread, so the test can wait on each one."""

    def __init__(self, project: Project, *args: str) -> None:
        self.stderr_path = project.root / "follow.stderr"
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "daemon", "--log-format", "json", *args, "-c", str(project.config_path)],
                stdout=subprocess.PIPE, stderr=stderr, text=True, env=project.env, cwd=project.root,
            )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_line(self, wanted: str, timeout: float = 20) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line containing {wanted!r} within {timeout}s; got {self.lines}") from None
            if line is None:
                raise AssertionError(f"exited before {wanted!r}; got {self.lines}")
            self.lines.append(line)
            if wanted in line:
                return line

    def finish(self, timeout: float = 20) -> int:
        code = self.proc.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


def _project(tmp_path: Path, engine: EngineProcess) -> Project:
    project = Project(tmp_path / "repo", provider={"kind": "lingo", "baseUrl": engine.url})
    config = json.loads(project.config_path.read_text())
    config["sources"][0]["targetLocales"] = LOCALES
    project.config_path.write_text(json.dumps(config))
    return project


def test_status_follow_prints_live_counts_to_completion_then_jobs_list_and_show(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        engine.knobs(pause_processing=True, latency_seconds=0.05)
        project = _project(tmp_path, engine)
        daemon = project.run("run")
        try:
            daemon.wait_event("job_group_submitted")
            follow = Lines(project, "status", "--follow", "--timeout", "60")
            try:
                follow.wait_line("locales/[locale].json v1: 0 of 4 languages ready")
                engine.knobs(pause_processing=False)
            finally:
                assert follow.finish() == 0, follow.stderr_path.read_text()
            progress = [line for line in follow.lines if "languages ready" in line]
            assert progress == [f"locales/[locale].json v1: {n} of 4 languages ready" for n in range(5)] + [
                "locales/[locale].json v1: 4 of 4 languages ready; group completed"]
            daemon.wait_event("git_committed")
        finally:
            assert daemon.stop() == 0

        listed = project.cli("jobs", "list", "--json", "--page-size", "1")  # four pages, walked by cursor
        assert listed.returncode == 0, listed.stderr
        jobs = json.loads(listed.stdout)
        assert sorted(job["targetLocale"] for job in jobs) == sorted(LOCALES)
        recent = project.cli("jobs", "list", "--since", "1h", "--status", "completed", "--engine", "eng_reference")
        assert recent.stdout.count("ljb_") == 4 and "4 jobs" in recent.stderr  # other filters: test_observability

        de = next(job for job in jobs if job["targetLocale"] == "de")
        shown = project.cli("jobs", "show", de["id"])
        assert shown.returncode == 0, shown.stderr
        assert f"{de['id']} (group {de['groupId']})" in shown.stdout
        assert "locale: en -> de" in shown.stdout and "status: completed" in shown.stdout
        assert "output: 5 keys (home/title, home/subtitle, cart/items, cart/empty, cart/checkout)" in shown.stdout
        assert "warnings: 0" in shown.stdout and "- localize: completed" in shown.stdout
        missing = project.cli("jobs", "show", "ljb_missing")
        assert missing.returncode == 3 and "job not found" in missing.stderr
    finally:
        engine.stop()


def test_retry_resubmits_failed_locales_with_and_without_a_running_daemon(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        engine.knobs(fail_locales=["ja"])
        project = _project(tmp_path, engine)
        assert project.cli("sync", "--once").returncode == 1

        # no daemon: retry syncs once itself, as a new version
        engine.knobs(fail_locales=[])
        retried = project.cli("retry", "--locale", "ja")
        assert retried.returncode == 0, retried.stderr
        assert "retrying locales/[locale].json [ja]: 5 keys from failed job ljb_" in retried.stdout
        assert project.read("ja")["cart"]["empty"] == pseudo_translate("Your cart is empty", "ja")
        assert "4 of 4 languages ready" in project.cli("status").stdout  # was: ja failed
        assert "nothing to retry" in project.cli("retry").stdout
        assert engine.stats()["groups_created"] == 2

        # with the daemon up: retry asks it to rescan (SIGHUP), and it resubmits
        daemon = project.run("run")
        try:
            daemon.wait_event("daemon_ready")
            engine.knobs(fail_locales=["fr"])
            edited = copy.deepcopy(SOURCE)
            edited["cart"]["checkout"] = "Pay now"
            project.write_source(edited)
            daemon.wait_event("job_failed", lambda e: e.get("locale") == "fr")
            daemon.wait_event("git_committed")
            engine.knobs(fail_locales=[])
            retried = project.cli("retry", "locales/[locale].json", "--locale", "fr")
            assert "retrying locales/[locale].json [fr]: 1 keys from failed job" in retried.stdout
            assert "asked the running daemon" in retried.stdout
            daemon.wait_event("git_committed", count=2)
            assert project.read("fr")["cart"]["checkout"] == pseudo_translate("Pay now", "fr")
            assert daemon.events("config_reloaded")[0]["changed"] == []
        finally:
            assert daemon.stop() == 0
        assert engine.stats()["groups_created"] == 4
    finally:
        engine.stop()
