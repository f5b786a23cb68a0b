"""``locsync sync --once`` starts its HTTP server and the embedded engine only when it has
something to send or fetch (real subprocesses, real engine, real git)."""

from __future__ import annotations

from pathlib import Path

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import Project


def test_the_embedded_engine_runs_for_work_and_is_not_started_for_none(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    first = project.cli("sync", "--once")
    assert first.returncode == 0, first.stderr[-2000:]
    assert '"event": "server_listening"' in first.stderr and '"event": "engine_started"' in first.stderr
    assert project.read("de")["home"]["title"] == pseudo_translate("Welcome to {appName}", "de")

    # --timeout keeps the no-op fast path (daemon.fastpath) out: this is the full path with nothing to do
    again = project.cli("sync", "--once", "--timeout", "60")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "server_listening" not in again.stderr and "engine_started" not in again.stderr
