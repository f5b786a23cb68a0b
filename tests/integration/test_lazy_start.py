"""``sync --once`` wiring (``wired(lazy=True)``): the HTTP side and the embedded engine start
on the first provider call, in time for the webhooks of what it submits, and not at all for a
run with nothing to send or fetch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.engine.translators.pseudo import pseudo_translate
from daemon.runtime import sync_once, wired
from tests.helpers import wait_until_async
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio


async def test_the_engine_starts_with_the_first_submission_and_its_webhook_arrives(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", {"a": "One", "b": "Two"})
    async with wired(loaded, lazy=True) as wiring:
        syncer = wiring.syncer
        report = await syncer.scan()
        assert report.submitted_versions
        assert not wiring.http.started and wiring.engine is None  # queued locally; nothing reached yet

        await syncer.submit_pending()
        assert wiring.http.started
        assert wiring.engine is not None and wiring.engine.running
        await wait_until_async(lambda: wiring.receiver.counts.get("accepted", 0) == 1)
        await syncer.process_inbox()
        assert await syncer.apply_received() == 1
        assert syncer.open_work() == 0
    de = json.loads((loaded.root / "locales/de.json").read_text())
    assert de == {"a": pseudo_translate("One", "de"), "b": pseudo_translate("Two", "de")}


async def test_a_sync_with_nothing_to_do_never_serves(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", {"a": "One"})
    assert (await sync_once(loaded, allow_deletions=False, timeout=60)).exit_code == 0
    async with wired(loaded, lazy=True) as wiring:
        report = await wiring.syncer.scan()
        assert not report.submitted_versions and wiring.syncer.open_work() == 0
        await wiring.syncer.commit_pending()
        assert not wiring.http.started and wiring.engine is None
        with pytest.raises(RuntimeError, match="has not started"):
            _ = wiring.receiver
    result = await sync_once(loaded, allow_deletions=False, timeout=60)
    assert result.exit_code == 0 and not result.errors


async def test_the_daemon_wiring_serves_at_once(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", {"a": "One"})
    async with wired(loaded) as wiring:
        assert wiring.http.started
        assert wiring.engine is not None and wiring.engine.running
