"""Scan fingerprints: an unchanged document is skipped, and only while nothing it depends on moved.

The skip is only safe because triggers drop a document's fingerprint on any change to what
the planner reads about it; these tests break that promise from every side.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from daemon.sources.file_io import FileDocumentIO
from daemon.state.store import StateStore
from daemon.syncer import Syncer
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio

SOURCE = {"greeting": "Hello", "farewell": "Goodbye"}


class NoProvider:
    """Scans only queue submissions; a call here would be a bug in the test's premise."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the provider was used: {name}")


def age(root: Path) -> None:
    """Files as if saved a minute ago: outside the racy window in which no fingerprint is kept."""
    past = time.time() - 60
    for path in root.rglob("*.json"):
        os.utime(path, (past, past))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = FileDocumentIO.read_source

    async def counting(self: FileDocumentIO) -> Any:
        seen.append(self.id)
        return await original(self)

    monkeypatch.setattr(FileDocumentIO, "read_source", counting)
    return seen


async def test_unchanged_documents_are_not_read_again(tmp_path: Path, reads: list[str]) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    store = StateStore(loaded.state_path)
    try:
        syncer = Syncer(loaded, store, NoProvider(), callback_url=None, git=None)  # type: ignore[arg-type]
        await syncer.scan()
        assert reads == ["locales/[locale].json"]
        assert store.scan_fingerprints() == {}  # the scan queued work: the submission row dropped it
        age(loaded.root)
        await syncer.scan()
        assert len(reads) == 2 and "locales/[locale].json" in store.scan_fingerprints()
        await syncer.scan()
        await syncer.scan()
        assert len(reads) == 2  # skipped twice

        # the source changes: stat differs, read again
        (loaded.root / "locales/en.json").write_text(json.dumps({**SOURCE, "greeting": "Hi"}, indent=2) + "\n")
        await syncer.scan()
        assert len(reads) == 3
    finally:
        store.close()


@pytest.mark.parametrize("change", ["record_written", "forget_sent", "forget_keys", "source", "job", "submission"])
def test_any_state_change_of_a_document_drops_its_fingerprint(tmp_path: Path, change: str) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        store.save_scan_fingerprints({"a": "fa", "b": "fb"})
        if change == "record_written":
            store.record_written("a", "de", {"k": ("h", "machine")})
        elif change == "forget_sent":
            store.record_written("a", "de", {"k": ("h", "machine")}, sent_checksums={"k": "c"})
            store.save_scan_fingerprints({"a": "fa"})
            store.forget_sent("a", "de", ["k"])
        elif change == "forget_keys":
            store.record_written("a", "de", {"k": ("h", "machine")})
            store.save_scan_fingerprints({"a": "fa"})
            store.forget_keys("a", "de", ["k"])
        elif change == "source":
            store.replace_source_checksums("a", {"k": "c"})
        elif change == "submission":
            store.add_submission("a", 1, "key-1", {"data": {}}, {"de": {"k": "c"}})
        elif change == "job":
            store.add_submission("a", 1, "key-1", {"data": {}}, {"de": {"k": "c"}})
            sub = store.pending_submissions()[0]
            store.save_scan_fingerprints({"a": "fa"})
            store.submission_accepted(sub, "grp", [("job-1", "de", "queued")])
        assert store.scan_fingerprints() == {"b": "fb"}
    finally:
        store.close()


def test_a_version_1_database_is_migrated_at_open(tmp_path: Path) -> None:
    """A state file from before fingerprints (schema 1) gets the new tables, triggers and indexes, keeps its rows."""
    import sqlite3

    from daemon.state.schema import TABLES

    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        for statement in TABLES:
            if not any(name in statement for name in ("noop_snapshot", "scan_fingerprints", "INDEX")):
                conn.execute(statement)
        conn.execute("CREATE INDEX jobs_state ON jobs (state)")  # schema 1 and 2's indexes
        conn.execute("CREATE INDEX jobs_group ON jobs (group_id)")
        conn.execute("CREATE INDEX inbox_unprocessed ON inbox (processed_at)")
        conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
        conn.execute("INSERT INTO documents (id, next_version) VALUES ('doc', 7)")
    store = StateStore(path)
    try:
        assert store.get_meta("schema_version") == "3"
        assert store.next_version("doc") == 7
        store.save_scan_fingerprints({"doc": "f"})
        store.record_written("doc", "de", {"k": ("h", "machine")})
        assert store.scan_fingerprints() == {}  # the triggers came with the migration
        indexes = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"submissions_progress", "jobs_progress", "jobs_group", "inbox_queue"} <= indexes  # schema 3
        assert not {"jobs_state", "inbox_unprocessed"} & indexes
    finally:
        store.close()
    again = StateStore(path)  # current: opens without migrating (no write at all)
    try:
        assert again.get_meta("schema_version") == "3"
    finally:
        again.close()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    from daemon.errors import StateError

    path = tmp_path / "state.db"
    StateStore(path).close()
    with sqlite3_connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match="newer locsync"):
        StateStore(path)


def sqlite3_connect(path: Path) -> Any:
    import sqlite3

    return sqlite3.connect(path)
