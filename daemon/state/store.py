"""StateStore: the only module that speaks SQL to the state database.

Durability rules (see docs/reliability.md): WAL with ``synchronous=FULL`` so that a
committed row survives power loss, and every write transaction starts with
``BEGIN IMMEDIATE`` so a concurrent writer (``locsync status`` reading while the
daemon writes, or a second daemon by mistake) waits on ``busy_timeout`` instead of
failing half-way. sqlite-utils' own ``atomic()`` issues a deferred ``BEGIN``, hence
the explicit transaction here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.errors import StateError
from daemon.state.schema import SCHEMA_VERSION, STATEMENTS, TABLE_NAMES


@dataclass(frozen=True)
class LocaleKeyRecord:
    """What we know about one key of one target locale."""

    sent_checksum: str | None
    sent_version: int | None
    written_hash: str | None
    provenance: str | None
    job_id: str | None
    written_version: int | None


@dataclass(frozen=True)
class Submission:
    """An outbox row: a job group we must create (or have created) at the provider."""

    id: int
    document: str
    version: int
    idempotency_key: str
    request: dict[str, Any]
    state: str
    group_id: str | None
    attempts: int
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True)
class JobRow:
    job_id: str
    group_id: str
    document: str
    version: int
    locale: str
    status: str
    state: str
    result: dict[str, Any] | None
    error: str | None


def _record(row: sqlite3.Row) -> LocaleKeyRecord:
    return LocaleKeyRecord(
        row["sent_checksum"], row["sent_version"], row["written_hash"], row["provenance"], row["job_id"],
        row["written_version"],
    )


@dataclass(frozen=True)
class PendingCommit:
    """A file written by locsync and not yet committed."""

    path: str
    document: str
    locale: str
    group_id: str | None
    written_at: float


_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.RLock:
    """One lock per database file for every ``StateStore`` of this process.

    The daemon writes from two threads (the event loop, and the webhook group commit's
    writer thread, each on its own connection). Without this lock a writer that finds the
    other one's transaction open falls into SQLite's busy handler, which sleeps 1, 2, 5, 10 ms
    ... on the event loop; with it, a write waits exactly as long as the other transaction.
    Other processes (``locsync status``) still meet ``busy_timeout``.
    """
    key = os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


class StateStore:
    """Typed, named state transitions over one SQLite file."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, prepare: bool = True) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
        self.conn = conn
        self._lock = _write_lock(path)
        self._deferring = False
        self._full_after_transaction = False
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        # 512 KiB of page cache instead of 2 MiB: the daemon keeps this connection (and the
        # webhook writer's) for its whole life, and its queries touch a few pages at a time
        conn.execute("PRAGMA cache_size=-512")
        # Savepoint journals and sorts in memory, not in files under /var/tmp: applying a result
        # inside ``savepoint`` journals about 46 pages of locale_keys (its rows grow as they are
        # written), and past 64 KiB SQLite spilled that to a file, 47,000 page writes in a
        # cold sync of 200 files. Both are small and live for one statement or savepoint.
        conn.execute("PRAGMA temp_store=MEMORY")
        if not prepare:
            return
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StateError(f"{path}: state database failed its integrity check: {check}")
        found = self._schema_version()
        if found is not None and found > SCHEMA_VERSION:
            raise StateError(f"{path}: written by a newer locsync (schema {found} > {SCHEMA_VERSION}); upgrade locsync")
        if found != SCHEMA_VERSION:
            self._migrate()

    def _schema_version(self) -> int | None:
        """The schema this file has (None: new); read without a write, so a current file opens fast."""
        try:
            found = self._meta("schema_version")
        except sqlite3.OperationalError:  # no meta table yet
            return None
        return int(found) if found is not None else None

    def _migrate(self) -> None:
        """Create what is missing (every statement is idempotent), check it with sqlite-utils' view
        of the schema, and record the version, all in one transaction."""
        import sqlite_utils

        db = sqlite_utils.Database(self.conn, execute_plugins=False)
        with self.write():
            for statement in STATEMENTS:
                self.conn.execute(statement)
            missing = sorted(set(TABLE_NAMES) - set(db.table_names()))
            if missing:
                raise StateError(f"{self.path}: could not create tables {', '.join(missing)}")
            self._set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        self.conn.close()

    def sibling(self) -> StateStore:
        """Another connection to this database (already checked and migrated), for a writer thread."""
        return StateStore(self.path, clock=self.clock, prepare=False)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error).

        Nested calls join the open transaction. The per-file lock (see ``_write_lock``) is
        held throughout, so this process's other connections wait on it, never on SQLite.
        """
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                try:
                    yield self.conn
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
            finally:
                if self._full_after_transaction and not self.conn.in_transaction:
                    self._full_after_transaction = False
                    self.conn.execute("PRAGMA synchronous=FULL")  # deferred_fsync could not, see there

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside an open transaction, undo only this block's writes if it raises; else ``write``.

        Lets a batch in one transaction drop one item's half-done writes and keep the others'.
        """
        if not self.conn.in_transaction:
            with self.write():
                yield
            return
        with self._lock:
            self.conn.execute("SAVEPOINT item")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK TO item")
                self.conn.execute("RELEASE item")
                raise
            self.conn.execute("RELEASE item")

    @contextmanager
    def deferred_fsync(self) -> Iterator[None]:
        """Commit the write transactions inside without an fsync each (``synchronous=NORMAL``).

        They become durable with the next ``synchronous=FULL`` commit on this database (any
        connection: the WAL is one file, appended in order, and that commit fsyncs it all),
        or with ``make_durable``. An application crash loses none of them (the frames are in
        the page cache); power loss can drop only a suffix of them, never keep a later commit
        without an earlier one. So use it only for steps that are redone identically when
        lost, and call ``make_durable`` before anything outside the database acts on them (a
        request to the provider, a file write whose intent must be on disk first).

        Inside an open transaction SQLite cannot change the level: a block entered there
        simply joins it, and that transaction's own commit decides (FULL). Nested, the
        outermost block restores FULL; if a transaction is still open when it ends (a COMMIT
        that failed), FULL comes back as soon as that transaction ends (``write``).
        """
        if self.conn.in_transaction or self._deferring:
            yield
            return
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
            if self.conn.in_transaction:
                self._full_after_transaction = True
            else:
                self.conn.execute("PRAGMA synchronous=FULL")

    def make_durable(self) -> None:
        """Put every commit made so far on disk, those of ``deferred_fsync`` blocks included.

        One fsync of the write-ahead log, which holds every commit not yet checkpointed (a
        checkpoint fsyncs the database file, so without a log file nothing is pending).
        """
        try:
            fd = os.open(f"{self.path}-wal", os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _rows(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        cursor = self.conn.execute(sql, params)
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    # --- meta -------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        return self._meta(key)

    def set_meta(self, key: str, value: str) -> None:
        with self.write():
            self._set_meta(key, value)

    def meta_or_create(self, key: str, make: Callable[[], str]) -> str:
        """Return a stored value, creating it once (e.g. a generated secret)."""
        with self.write():
            value = self._meta(key)
            if value is None:
                value = make()
                self._set_meta(key, value)
            return value

    # --- source snapshot and per-locale key records ----------------------------------

    def source_checksums(self, document: str) -> dict[str, str]:
        rows = self.conn.execute("SELECT key, checksum FROM source_keys WHERE document = ?", (document,))
        return {str(k): str(c) for k, c in rows}

    def replace_source_checksums(self, document: str, checksums: dict[str, str]) -> None:
        with self.write() as conn:
            conn.execute("DELETE FROM source_keys WHERE document = ?", (document,))
            conn.executemany(
                "INSERT INTO source_keys (document, key, checksum) VALUES (?, ?, ?)",
                [(document, k, c) for k, c in checksums.items()],
            )

    def locale_records(self, document: str, locale: str) -> dict[str, LocaleKeyRecord]:
        rows = self._rows(
            "SELECT * FROM locale_keys WHERE document = ? AND locale = ?", (document, locale)
        )
        return {row["key"]: _record(row) for row in rows}

    def locale_record(self, document: str, locale: str, key: str) -> LocaleKeyRecord | None:
        rows = self._rows(
            "SELECT * FROM locale_keys WHERE document = ? AND locale = ? AND key = ?", (document, locale, key)
        )
        return _record(rows[0]) if rows else None

    def mark_sent(self, document: str, version: int, per_locale: dict[str, dict[str, str]]) -> None:
        """Record that ``version`` carries these key checksums for these locales."""
        now = self.clock()
        with self.write() as conn:
            for locale, checksums in per_locale.items():
                conn.executemany(
                    """INSERT INTO locale_keys (document, locale, key, sent_checksum, sent_version, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (document, locale, key) DO UPDATE SET
                         sent_checksum = excluded.sent_checksum, sent_version = excluded.sent_version,
                         updated_at = excluded.updated_at""",
                    [(document, locale, k, c, version, now) for k, c in checksums.items()],
                )

    def record_written(
        self,
        document: str,
        locale: str,
        written: dict[str, tuple[str, str]],
        *,
        job_id: str | None = None,
        version: int | None = None,
        sent_checksums: dict[str, str] | None = None,
    ) -> None:
        """Record value hashes and provenance for keys now in the target file.

        ``written`` maps key -> (value hash, provenance). ``sent_checksums`` also sets the
        sent checksum (for adopted and locked keys, which never go to the provider).
        """
        now = self.clock()
        sent = sent_checksums or {}
        with self.write() as conn:
            conn.executemany(
                """INSERT INTO locale_keys (document, locale, key, sent_checksum, written_hash, provenance,
                                            job_id, written_version, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (document, locale, key) DO UPDATE SET
                     sent_checksum = COALESCE(?, sent_checksum),
                     written_hash = excluded.written_hash, provenance = excluded.provenance,
                     job_id = excluded.job_id, written_version = excluded.written_version,
                     updated_at = excluded.updated_at""",
                [(document, locale, key, sent.get(key), value_hash, provenance, job_id, version, now, sent.get(key))
                 for key, (value_hash, provenance) in written.items()],
            )

    def forget_sent(self, document: str, locale: str, keys: list[str]) -> None:
        """Clear the sent checksum of keys whose result came back stale (so they are sent again)."""
        with self.write() as conn:
            conn.executemany(
                "UPDATE locale_keys SET sent_checksum = NULL WHERE document = ? AND locale = ? AND key = ?",
                [(document, locale, k) for k in keys],
            )

    def forget_keys(self, document: str, locale: str, keys: list[str]) -> None:
        with self.write() as conn:
            conn.executemany(
                "DELETE FROM locale_keys WHERE document = ? AND locale = ? AND key = ?",
                [(document, locale, k) for k in keys],
            )

    # --- outbox -----------------------------------------------------------------------

    def next_version(self, document: str) -> int:
        """Reserve the next version number of ``document``."""
        with self.write() as conn:
            conn.execute("INSERT OR IGNORE INTO documents (id) VALUES (?)", (document,))
            row = conn.execute("SELECT next_version FROM documents WHERE id = ?", (document,)).fetchone()
            version = int(row[0])
            conn.execute("UPDATE documents SET next_version = ? WHERE id = ?", (version + 1, document))
            return version

    def add_submission(
        self,
        document: str,
        version: int,
        idempotency_key: str,
        request: dict[str, Any],
        per_locale: dict[str, dict[str, str]],
    ) -> None:
        """Queue a submission and mark its keys sent, in one transaction (the outbox)."""
        with self.write() as conn:
            conn.execute(
                """INSERT OR IGNORE INTO submissions (document, version, idempotency_key, request, state, created_at)
                   VALUES (?, ?, ?, ?, 'pending', ?)""",
                (document, version, idempotency_key, json.dumps(request, ensure_ascii=False), self.clock()),
            )
            self.mark_sent(document, version, per_locale)

    def _submission(self, row: sqlite3.Row) -> Submission:
        return Submission(
            row["id"], row["document"], row["version"], row["idempotency_key"], json.loads(row["request"]),
            row["state"], row["group_id"], row["attempts"], row["next_attempt_at"], row["last_error"],
        )

    def pending_submissions(self) -> list[Submission]:
        rows = self._rows("SELECT * FROM submissions WHERE state = 'pending' ORDER BY id")
        return [self._submission(r) for r in rows]

    def pending_submission_count(self) -> int:
        """How many submissions wait for the provider, counted on the index (no request bodies)."""
        return int(self.conn.execute("SELECT count(*) FROM submissions WHERE state = 'pending'").fetchone()[0])

    def open_work_count(self) -> int:
        """Submissions still pending plus jobs open or received: counted, not loaded (``sync --once``
        asks after every pass, and loading meant parsing every received result's JSON)."""
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM submissions WHERE state = 'pending')"
            " + (SELECT count(*) FROM jobs WHERE state IN ('open', 'received'))"
        ).fetchone()
        return int(row[0])

    def submissions(self, document: str | None = None) -> list[Submission]:
        if document is None:
            rows = self._rows("SELECT * FROM submissions ORDER BY id")
        else:
            rows = self._rows("SELECT * FROM submissions WHERE document = ? ORDER BY id", (document,))
        return [self._submission(r) for r in rows]

    def submission_failed(self, submission_id: int, error: str, next_attempt_at: float, *, final: bool) -> None:
        with self.write() as conn:
            conn.execute(
                """UPDATE submissions SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
                          state = CASE WHEN ? THEN 'rejected' ELSE state END
                   WHERE id = ?""",
                (error, next_attempt_at, final, submission_id),
            )

    def submission_accepted(self, submission: Submission, group_id: str, jobs: list[tuple[str, str, str]]) -> None:
        """Record the provider's group and jobs (job id, locale, status) for a submission.

        Without an fsync of its own (``deferred_fsync``): should power fail before the next
        durable commit takes it to disk, the submission is pending again and is sent again with
        the same idempotency key, which the provider answers with this same group; deliveries
        for its jobs wait in the inbox meanwhile. A cold sync records 200 of these in a row.
        """
        now = self.clock()
        with self.deferred_fsync(), self.write() as conn:
            conn.execute(
                "UPDATE submissions SET state = 'submitted', group_id = ?, submitted_at = ?, attempts = attempts + 1,"
                " last_error = NULL WHERE id = ?",
                (group_id, now, submission.id),
            )
            conn.executemany(
                """INSERT OR IGNORE INTO jobs (job_id, group_id, document, version, locale, status, state, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'open', ?)""",
                [(j, group_id, submission.document, submission.version, loc, st, now) for j, loc, st in jobs],
            )

    # --- jobs -------------------------------------------------------------------------

    def _job(self, row: sqlite3.Row) -> JobRow:
        return JobRow(
            row["job_id"], row["group_id"], row["document"], row["version"], row["locale"], row["status"],
            row["state"], json.loads(row["result"]) if row["result"] else None, row["error"],
        )

    def job(self, job_id: str) -> JobRow | None:
        rows = self._rows("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        return self._job(rows[0]) if rows else None

    def jobs(self, *, states: tuple[str, ...] | None = None, document: str | None = None) -> list[JobRow]:
        sql = "SELECT * FROM jobs WHERE 1 = 1"
        params: list[Any] = []
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(states)
        if document:
            sql += " AND document = ?"
            params.append(document)
        return [self._job(r) for r in self._rows(sql + " ORDER BY version, locale", tuple(params))]

    def job_received(self, job_id: str, status: str, result: dict[str, Any] | None, error: str | None) -> bool:
        """Store a terminal result before applying it. Returns False if already received or applied."""
        with self.write() as conn:
            cursor = conn.execute(
                """UPDATE jobs SET status = ?, state = ?, result = ?, error = ?, updated_at = ?
                   WHERE job_id = ? AND state = 'open'""",
                (status, "received" if result is not None else "failed",
                 json.dumps(result, ensure_ascii=False) if result is not None else None, error, self.clock(), job_id),
            )
            return cursor.rowcount == 1

    def job_status(self, job_id: str, status: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE jobs SET status = ?, updated_at = ? WHERE job_id = ? AND state = 'open'",
                         (status, self.clock(), job_id))

    def job_applied(self, job_id: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE jobs SET state = 'applied', updated_at = ? WHERE job_id = ?", (self.clock(), job_id))

    # --- inbox ------------------------------------------------------------------------

    def inbox_add(self, webhook_id: str, body: bytes) -> bool:
        """Persist a verified delivery. Returns False when ``webhook_id`` was seen before."""
        return self.inbox_add_many([(webhook_id, body, self.clock())])[0]

    def inbox_add_many(self, deliveries: Sequence[tuple[str, bytes, float]]) -> list[bool]:
        """Persist verified deliveries ``(webhook_id, body, received_at)`` in one transaction.

        One commit, so one fsync, however many there are: the webhook receiver's group
        commit. Each result is False when that ``webhook_id`` was seen before (in the
        database or earlier in ``deliveries``).
        """
        with self.write() as conn:
            return [
                conn.execute(
                    "INSERT OR IGNORE INTO inbox (webhook_id, body, received_at) VALUES (?, ?, ?)", delivery
                ).rowcount == 1
                for delivery in deliveries
            ]

    def inbox_unprocessed(self) -> list[tuple[str, bytes]]:
        rows = self.conn.execute(
            "SELECT webhook_id, body FROM inbox WHERE processed_at IS NULL ORDER BY received_at"
        ).fetchall()
        return [(str(w), bytes(b)) for w, b in rows]

    def inbox_done(self, webhook_id: str, outcome: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE inbox SET processed_at = ?, outcome = ? WHERE webhook_id = ?",
                         (self.clock(), outcome, webhook_id))

    def inbox_prune(self, older_than: float) -> int:
        with self.write() as conn:
            return conn.execute(
                "DELETE FROM inbox WHERE processed_at IS NOT NULL AND received_at < ?", (older_than,)
            ).rowcount

    # --- commits ----------------------------------------------------------------------

    def add_pending_commit(self, path: str, document: str, locale: str, group_id: str | None) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending_commits (path, document, locale, group_id, written_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (path, document, locale, group_id, self.clock()),
            )

    def add_commit_intent(self, path: str, document: str, locale: str, group_id: str | None) -> bool:
        """Record that ``path`` is about to be written, unless a write of it already waits for
        git; True when this added the row (``drop_commit_intents`` may take it back)."""
        with self.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO pending_commits (path, document, locale, group_id, written_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (path, document, locale, group_id, self.clock()),
            )
            return cursor.rowcount == 1

    def drop_commit_intents(self, paths: Iterable[str]) -> None:
        """Forget intents for files that were not written after all (their jobs failed)."""
        with self.write() as conn:
            conn.executemany("DELETE FROM pending_commits WHERE path = ?", [(p,) for p in paths])

    def pending_commits(self) -> list[PendingCommit]:
        rows = self.conn.execute(
            "SELECT path, document, locale, group_id, written_at FROM pending_commits ORDER BY written_at"
        ).fetchall()
        return [PendingCommit(str(p), str(d), str(lc), g, float(w)) for p, d, lc, g, w in rows]

    def clear_pending_commits(self, committed: list[PendingCommit]) -> None:
        """Forget committed rows, but not a path written again since it was read for the commit."""
        with self.write() as conn:
            conn.executemany(
                "DELETE FROM pending_commits WHERE path = ? AND written_at = ?",
                [(row.path, row.written_at) for row in committed],
            )

    # --- counts (read-only; for /metrics and the STATUS line) --------------------------

    def job_counts(self) -> dict[tuple[str, str], int]:
        """Jobs per (state, provider status), e.g. ``("open", "processing"): 3``."""
        rows = self.conn.execute("SELECT state, status, COUNT(*) FROM jobs GROUP BY state, status").fetchall()
        return {(str(state), str(status)): int(count) for state, status, count in rows}

    def groups_in_flight(self) -> int:
        """Job groups with a job not yet applied or failed."""
        row = self.conn.execute(
            "SELECT COUNT(DISTINCT group_id) FROM jobs WHERE state IN ('open', 'received')"
        ).fetchone()
        return int(row[0])

    # --- scan fingerprints (see schema.py) -----------------------------------------------

    def scan_fingerprints(self) -> dict[str, str]:
        rows = self.conn.execute("SELECT document, fingerprint FROM scan_fingerprints").fetchall()
        return {str(d): str(f) for d, f in rows}

    def save_scan_fingerprints(self, fingerprints: dict[str, str]) -> None:
        """Record documents a scan left with nothing to do, in one transaction."""
        if not fingerprints:
            return
        with self.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO scan_fingerprints (document, fingerprint) VALUES (?, ?)",
                list(fingerprints.items()),
            )

    def save_noop_snapshot(self, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO noop_snapshot (id, value) VALUES (1, ?)", (value,))

    def documents_with_prefix(self, prefix: str) -> list[str]:
        """Documents this database knows under ``prefix`` (a CMS source's entries), sorted."""
        rows = self.conn.execute(
            """SELECT document FROM locale_keys WHERE substr(document, 1, ?) = ?
               UNION SELECT document FROM submissions WHERE substr(document, 1, ?) = ?
               ORDER BY 1""",
            (len(prefix), prefix, len(prefix), prefix),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def states(self) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
        """(document, version, state) of every submission and every job, without their bodies:
        ``sync --once`` shows progress after each pass, and the bodies are the bulk of the rows."""
        subs = self.conn.execute("SELECT document, version, state FROM submissions").fetchall()
        jobs = self.conn.execute("SELECT document, version, state FROM jobs").fetchall()
        return [(str(d), int(v), str(st)) for d, v, st in subs], [(str(d), int(v), str(st)) for d, v, st in jobs]
