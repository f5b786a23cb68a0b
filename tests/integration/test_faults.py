"""Disk and git faults: nothing is lost, half-written or clobbered, and the daemon recovers."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import structlog

from daemon.atomic import sweep_temp_files
from daemon.engine.translators.pseudo import pseudo_translate
from daemon.errors import GitError
from daemon.formats.json_format import JsonFormat
from daemon.gitcommit import GitRepo, GitSettings
from daemon.runtime import Wiring, wired
from tests.helpers import wait_until_async
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio
SOURCE = {"greeting": "Hello {name}", "farewell": "Goodbye"}


async def received(wiring: Wiring) -> None:
    """Submit the source and wait until the de result is stored (not yet applied)."""
    assert wiring.engine is not None
    await wiring.syncer.scan()
    await wiring.syncer.submit_pending()
    await wait_until_async(lambda: wiring.engine is not None and wiring.engine.stats()["deliveries_succeeded"] >= 1)
    await wiring.syncer.process_inbox()
    assert [job.state for job in wiring.store.jobs()] == ["received"]


async def test_a_save_during_our_write_is_never_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    target = loaded.root / "locales/de.json"
    original_render = JsonFormat.render
    saves = []

    def render_while_the_translator_saves(self: JsonFormat, *args: Any, **kwargs: Any) -> bytes:
        if not saves:  # the translator saves their own farewell while we merge
            target.write_text(json.dumps({"farewell": "Tschüss!"}, ensure_ascii=False) + "\n")
            saves.append(True)
        return original_render(self, *args, **kwargs)

    async with wired(loaded) as wiring:
        await received(wiring)
        monkeypatch.setattr(JsonFormat, "render", render_while_the_translator_saves)
        with structlog.testing.capture_logs() as logs:
            assert await wiring.syncer.apply_received() == 1
        de = json.loads(target.read_text())
        assert de == {"greeting": pseudo_translate("Hello {name}", "de"), "farewell": "Tschüss!"}
        assert any(e["event"] == "target_changed_during_write" for e in logs)
        record = wiring.store.locale_record("locales/[locale].json", "de", "farewell")
        assert record is not None and record.provenance == "human"
        assert sweep_temp_files(loaded.root) == []


async def test_disk_full_during_write_keeps_the_old_file_and_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    target = loaded.root / "locales/de.json"
    target.write_text('{\n  "unrelated": "kept"\n}\n')
    before = target.read_bytes()
    async with wired(loaded) as wiring:
        await received(wiring)
        real_write = os.write

        def full_disk(fd: int, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("daemon.atomic.os.write", full_disk)
        with structlog.testing.capture_logs() as logs:
            assert await wiring.syncer.apply_received() == 0
        assert target.read_bytes() == before
        assert sweep_temp_files(loaded.root) == []
        failed = [e for e in logs if e["event"] == "target_write_failed"]
        assert failed and "No space left" in failed[0]["error"]
        assert [job.state for job in wiring.store.jobs()] == ["received"]  # kept for the retry

        monkeypatch.setattr("daemon.atomic.os.write", real_write)
        assert await wiring.syncer.apply_received() == 1
        de = json.loads(target.read_text())
        assert de["unrelated"] == "kept" and de["greeting"] == pseudo_translate("Hello {name}", "de")


async def test_git_lock_held_keeps_files_pending_and_commits_after(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    root = loaded.root
    subprocess.run(["git", "-C", str(root), "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q",
                    "--allow-empty", "-m", "init"], check=True)
    async with wired(loaded) as wiring:
        wiring.syncer.git = GitRepo(root, GitSettings(lock_retry_delays=(0.01, 0.01)))
        await received(wiring)
        assert await wiring.syncer.apply_received() == 1
        lock = root / ".git/index.lock"
        lock.write_text("")
        with pytest.raises(GitError) as info:
            await wiring.syncer.commit_pending()
        assert "index.lock" in str(info.value)
        assert wiring.store.pending_commits()  # not forgotten
        lock.unlink()
        sha = await wiring.syncer.commit_pending()
        assert sha is not None and wiring.store.pending_commits() == []
        shown = subprocess.run(["git", "-C", str(root), "show", "--name-only", "--format=", "HEAD"],
                               capture_output=True, text=True, check=True).stdout.split()
        assert shown == ["locales/de.json"]
