"""``sync --once`` reads results back from the provider only when webhooks do not bring them.

While deliveries flow, every catch-up would be a GET per open group on every wake-up (about
120 requests in a 200-document cold sync, ``bench/scale.py``); with deliveries held back by
the engine, the run must still finish, by reading the results itself. The reference engine
counts the reads it serves (``group_reads``, ``job_reads`` in ``/_engine/stats``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import EngineProcess, Project
from tests.helpers import free_port


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineProcess]:
    process = EngineProcess(tmp_path / "engine")
    try:
        yield process
    finally:
        process.stop()


def sync_once(tmp_path: Path, engine: EngineProcess, locale: str) -> dict[str, int]:
    """Run ``sync --once`` with webhooks to ``engine``; check ``locale``'s file; the engine's stats."""
    port = free_port()
    project = Project(tmp_path / "repo", provider=engine.lingo_provider(),
                      server={"port": port, "publicUrl": f"http://127.0.0.1:{port}"})
    result = project.cli("sync", "--once", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert project.read(locale)["cart"]["items"] == pseudo_translate("You have {count} items", locale)
    return engine.stats()


def test_results_that_arrive_by_webhook_are_not_read_back(tmp_path: Path, engine: EngineProcess) -> None:
    stats = sync_once(tmp_path, engine, "fr")
    assert stats["deliveries_succeeded"] == 2
    assert (stats["group_reads"], stats["job_reads"], stats["list_reads"]) == (0, 0, 0)


def test_results_held_back_by_the_provider_are_read_back(tmp_path: Path, engine: EngineProcess) -> None:
    engine.knobs(pause_deliveries=True)
    stats = sync_once(tmp_path, engine, "de")
    assert stats["deliveries_succeeded"] == 0
    assert stats["group_reads"] >= 1 and stats["job_reads"] >= 2
