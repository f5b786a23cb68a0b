"""``sync --once`` with nothing changed is answered from the snapshot (``daemon.fastpath``).

Each test makes the files look older than the racy window with ``os.utime`` (as if saved a
while ago) instead of waiting, then checks that the fast answer is given exactly when
nothing changed, and that any change takes the full path again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from tests.e2e.harness import SOURCE, Project


def age(root: Path, seconds: float = 10.0) -> None:
    """Every file and folder of the content (not .git) as if last modified ``seconds`` ago."""
    past = time.time() - seconds
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".locsync")]
        for name in files:
            os.utime(Path(folder, name), (past, past))
        os.utime(folder, (past, past))


def fast(project: Project) -> bool:
    result = project.cli("sync", "--once")
    assert result.returncode == 0, result.stderr[-2000:]
    return '"sync_unchanged"' in result.stderr


def synced(tmp_path: Path) -> Project:
    project = Project(tmp_path / "repo")
    assert not fast(project)  # cold: the full path, translations written and committed
    age(project.root)
    assert not fast(project)  # the full path again (files were new), which leaves the snapshot
    return project


def test_unchanged_project_is_answered_fast_and_any_change_takes_the_full_path(tmp_path: Path) -> None:
    project = synced(tmp_path)
    assert fast(project)
    assert fast(project)

    # a target edited by hand: same size, different bytes and mtime
    target = project.root / "locales" / "de.json"
    target.write_bytes(target.read_bytes().replace(b"}", b"}", 1))
    age(project.root)
    os.utime(target, None)  # now: also newer than the snapshot
    assert not fast(project)
    age(project.root)
    assert not fast(project)  # leaves a fresh snapshot
    assert fast(project)

    # a new file in a watched folder (a new target locale appearing)
    (project.root / "locales" / "it.json").write_text("{}\n")
    assert not fast(project)


def test_a_source_edit_is_synced_not_skipped(tmp_path: Path) -> None:
    project = synced(tmp_path)
    edited = json.loads(json.dumps(SOURCE))
    edited["cart"]["checkout"] = "Pay now"
    project.write_source(edited)
    assert not fast(project)
    assert "Pay now" not in json.dumps(project.read("de"))  # translated, not copied
    assert project.read("de")["cart"]["checkout"] != "Checkout"


def test_state_changes_and_config_edits_drop_the_snapshot(tmp_path: Path) -> None:
    project = synced(tmp_path)
    assert fast(project)
    db = project.root / ".locsync" / "state.db"
    with sqlite3.connect(db) as conn:  # a webhook stored by a running daemon, say
        conn.execute("INSERT INTO inbox (webhook_id, received_at, body) VALUES ('msg_x', 0, x'7b7d')")
    assert not fast(project)

    project.config_path.write_text(project.config_path.read_text() + "\n")
    age(project.root)
    assert not fast(project)  # another config digest
    age(project.root)
    assert not fast(project)
    assert fast(project)


def test_other_commands_and_options_never_take_the_fast_path(tmp_path: Path) -> None:
    project = synced(tmp_path)
    assert fast(project)
    result = project.cli("sync", "--once", "--allow-deletions")
    assert result.returncode == 0 and '"sync_unchanged"' not in result.stderr
    status = project.cli("status")
    assert status.returncode == 0 and "sync_unchanged" not in status.stderr
