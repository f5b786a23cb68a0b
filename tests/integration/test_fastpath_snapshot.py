"""daemon.fastpath.save_snapshot only vouches for files nobody touched while the run worked."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from daemon.fastpath import current_stats, save_snapshot, stats_and_listing
from daemon.state.store import StateStore
from daemon.syncer import Syncer
from tests.integration.conftest import make_project

SOURCE = {"greeting": "Hello"}


class NoProvider:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the provider was used: {name}")


def age(root: Path, seconds: float = 60) -> None:
    past = time.time() - seconds
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".locsync")]
        for name in [*files, "."]:
            os.utime(Path(folder, name), (past, past))


def snapshot_rows(store: StateStore) -> int:
    return int(store.conn.execute("SELECT COUNT(*) FROM noop_snapshot").fetchone()[0])


def test_a_source_saved_during_the_run_is_not_vouched_for(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    age(loaded.root)
    store = StateStore(loaded.state_path)
    try:
        syncer = Syncer(loaded, store, NoProvider(), callback_url=None, git=None)  # type: ignore[arg-type]
        started = time.time()
        before = current_stats(loaded, syncer)
        # the run's scan happens here; then someone saves the source: same size, and a tool that
        # keeps the old mtime (cp -p, rsync -t): only the inode change time tells
        source = loaded.root / "locales/en.json"
        old = source.stat()
        source.write_text(json.dumps({"greeting": "Howdy"}, indent=2) + "\n")
        os.utime(source, ns=(old.st_atime_ns, old.st_mtime_ns))
        assert source.stat().st_size == old.st_size
        assert not save_snapshot(loaded, syncer, started_at=started, before=before)
        assert snapshot_rows(store) == 0

        # a run that saw these very files may vouch for them
        assert save_snapshot(loaded, syncer, started_at=started, before=current_stats(loaded, syncer))
        assert snapshot_rows(store) == 1
    finally:
        store.close()


def test_a_new_source_in_a_vendored_folder_is_seen(tmp_path: Path) -> None:
    """Discovery (Path.glob) descends into node_modules, so the snapshot's folder walk must too."""
    loaded = make_project(tmp_path / "repo", SOURCE, source_extra={"include": ["**/i18n/[locale].json"]})
    (loaded.root / "app/i18n").mkdir(parents=True)
    (loaded.root / "app/i18n/en.json").write_text('{"a": "A"}\n')
    (loaded.root / "node_modules").mkdir()  # already there: adding a package changes only its mtime
    age(loaded.root)
    store = StateStore(loaded.state_path)
    try:
        syncer = Syncer(loaded, store, NoProvider(), callback_url=None, git=None)  # type: ignore[arg-type]
        before = current_stats(loaded, syncer)
        vendored = loaded.root / "node_modules/widgets/i18n"
        vendored.mkdir(parents=True)
        (vendored / "en.json").write_text('{"b": "B"}\n')
        _files, dirs = current_stats(loaded, syncer)
        assert dirs != before[1]  # node_modules' own stat changed: it is walked
        assert any(entry[0].endswith("node_modules") for entry in dirs)
    finally:
        store.close()


def test_a_document_created_after_the_runs_listing_is_not_vouched_for(tmp_path: Path) -> None:
    """``sync --once`` lists the documents once (folders first, then the listing) for its stats,
    its scan and the stats at its end: a source created after that listing was never scanned,
    so the snapshot must not be kept, however the stats of the files it knows compare."""
    loaded = make_project(tmp_path / "repo", SOURCE, source_extra={"include": ["locales/**/[locale].json"]})
    (loaded.root / "locales/app").mkdir()
    (loaded.root / "locales/app/en.json").write_text('{"a": "A"}\n')
    age(loaded.root)
    store = StateStore(loaded.state_path)
    try:
        syncer = Syncer(loaded, store, NoProvider(), callback_url=None, git=None)  # type: ignore[arg-type]
        started = time.time()
        before, listing = stats_and_listing(loaded, syncer)
        assert {doc.id for _index, doc in listing} == {"locales/[locale].json", "locales/app/[locale].json"}
        (loaded.root / "locales/app/more").mkdir(parents=False)  # in a folder the listing walked
        (loaded.root / "locales/app/more/en.json").write_text('{"b": "B"}\n')
        assert current_stats(loaded, syncer, listing)[0] == before[0]  # the files it knows: unchanged
        assert not save_snapshot(loaded, syncer, started_at=started, before=before, listing=listing)
        assert snapshot_rows(store) == 0
        age(loaded.root)  # (ages the new file too, so only the listing can tell)
        before, listing = stats_and_listing(loaded, syncer)
        assert len(listing) == 3
        assert save_snapshot(loaded, syncer, started_at=started, before=before, listing=listing)
    finally:
        store.close()
