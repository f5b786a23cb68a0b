"""All SQL of the reference engine: groups, jobs, webhook deliveries and counters.

The store is the engine's memory across restarts, so it is written like a small
production queue: WAL with ``synchronous=FULL`` (a 202 or a completed job is on disk before
anyone hears about it), every write in ``BEGIN IMMEDIATE`` (the write lock is taken up front,
so two engine processes on one file serialise instead of failing mid-transaction), and a
job's completion and its webhook delivery are written in the same transaction (an outbox:
a crash can never lose the delivery of a completed job, nor deliver a job that is not
completed). When an engine starts, jobs a crash or stop left ``processing`` go back to ``queued``.

Calls are synchronous and made from the event loop: each is a handful of indexed
statements on a local file, far cheaper than handing every call to a thread, and it keeps
read-modify-write sequences (idempotency check then insert, finish then snapshot) free of
interleaving within one engine.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from daemon.engine.ids import GROUP_PREFIX, JOB_PREFIX, iso_now, new_id

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    body_hash       TEXT NOT NULL,
    source_locale   TEXT NOT NULL,
    engine_id       TEXT NOT NULL,
    request_json    TEXT NOT NULL,
    callback_url    TEXT,
    created_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id            TEXT PRIMARY KEY,
    group_id      TEXT NOT NULL REFERENCES groups(id),
    position      INTEGER NOT NULL,
    target_locale TEXT NOT NULL,
    engine_id     TEXT NOT NULL,
    status        TEXT NOT NULL,
    output_json   TEXT,
    warnings_json TEXT NOT NULL DEFAULT '[]',
    steps_json    TEXT NOT NULL DEFAULT '[]',
    error_message TEXT,
    created_at    TEXT NOT NULL,
    completed_at  TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_group ON jobs(group_id, position);
CREATE INDEX IF NOT EXISTS jobs_newest ON jobs(created_at, id);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status);
CREATE TABLE IF NOT EXISTS deliveries (
    webhook_id      TEXT PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs(id),
    url             TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    delivered_at    REAL,
    gave_up         INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up = 0;
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

COUNTERS = (
    "groups_created",
    "idempotent_replays",
    "idempotency_conflicts",
    "jobs_completed",
    "jobs_failed",
    "deliveries_attempted",
    "deliveries_succeeded",
    "deliveries_failed",
    "delivery_errors",
)


@dataclass(frozen=True)
class GroupRow:
    id: str
    idempotency_key: str | None
    body_hash: str
    source_locale: str
    engine_id: str
    request: dict[str, Any]
    callback_url: str | None
    created_at: str


@dataclass(frozen=True)
class JobRow:
    id: str
    group_id: str
    position: int
    target_locale: str
    engine_id: str
    status: str
    output: Any
    warnings: list[Any]
    steps: list[dict[str, Any]]
    error_message: str | None
    created_at: str
    completed_at: str | None


@dataclass(frozen=True)
class DeliveryRow:
    webhook_id: str
    job_id: str
    url: str
    payload: str
    attempts: int
    next_attempt_at: float
    delivered_at: float | None
    gave_up: bool

    @property
    def pending(self) -> bool:
        return self.delivered_at is None and not self.gave_up


@dataclass(frozen=True)
class CreateOutcome:
    group: GroupRow
    jobs: list[JobRow]
    replayed: bool
    conflict: bool


@dataclass(frozen=True)
class NewDelivery:
    webhook_id: str
    url: str
    payload: str


def body_hash(body: Any) -> str:
    """A stable hash of a request body, to spot an idempotency key reused with other content."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class EngineStore:
    """One SQLite connection; open with ``EngineStore.open(path)``, finish with ``close()``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, path: str) -> EngineStore:
        db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA cache_size=-512")  # small, like the daemon's state (daemon.state.store)
        store = cls(db)
        with store._write():
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"engine database {path} has schema {version}, newer than {SCHEMA_VERSION}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return store

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _bump(self, name: str, by: int = 1) -> None:
        self._db.execute(
            "INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
            (name, by, by),
        )

    # -- counters --------------------------------------------------------------------------

    def bump(self, name: str, by: int = 1) -> None:
        with self._write():
            self._bump(name, by)

    def stats(self) -> dict[str, int]:
        values = dict.fromkeys(COUNTERS, 0)
        values.update({row["name"]: row["value"] for row in self._db.execute("SELECT name, value FROM counters")})
        pending = self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE delivered_at IS NULL AND gave_up = 0"
        ).fetchone()[0]
        values["deliveries_pending"] = int(pending)
        return values

    # -- groups and jobs ---------------------------------------------------------------------

    def create_group(
        self,
        *,
        idempotency_key: str | None,
        request: dict[str, Any],
        source_locale: str,
        target_locales: Sequence[str],
        engine_id: str,
        callback_url: str | None,
    ) -> CreateOutcome:
        """Create a group with one queued job per locale, or replay the group of a known key."""
        digest = body_hash(request)
        with self._write() as db:
            if idempotency_key is not None:
                row = db.execute("SELECT * FROM groups WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
                if row is not None:
                    group = _group(row)
                    conflict = group.body_hash != digest
                    self._bump("idempotent_replays")
                    if conflict:
                        self._bump("idempotency_conflicts")
                    return CreateOutcome(group, self.group_jobs(group.id), replayed=True, conflict=conflict)
            group_id, created_at = new_id(GROUP_PREFIX), iso_now()
            db.execute(
                "INSERT INTO groups(id, idempotency_key, body_hash, source_locale, engine_id, request_json,"
                " callback_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group_id,
                    idempotency_key,
                    digest,
                    source_locale,
                    engine_id,
                    json.dumps(request, ensure_ascii=False),
                    callback_url,
                    created_at,
                ),
            )
            db.executemany(
                "INSERT INTO jobs(id, group_id, position, target_locale, engine_id, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?)",
                [
                    (new_id(JOB_PREFIX), group_id, position, locale, engine_id, created_at)
                    for position, locale in enumerate(target_locales)
                ],
            )
            self._bump("groups_created")
            created = self.get_group(group_id)
            assert created is not None
            return CreateOutcome(created, self.group_jobs(group_id), replayed=False, conflict=False)

    def get_group(self, group_id: str) -> GroupRow | None:
        row = self._db.execute("SELECT * FROM groups WHERE id = ?", (group_id,)).fetchone()
        return _group(row) if row is not None else None

    def group_jobs(self, group_id: str) -> list[JobRow]:
        rows = self._db.execute("SELECT * FROM jobs WHERE group_id = ? ORDER BY position", (group_id,))
        return [_job(row) for row in rows]

    def get_job(self, job_id: str) -> JobRow | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row is not None else None

    def list_jobs(
        self,
        *,
        limit: int,
        engine_id: str | None = None,
        status: str | None = None,
        before: tuple[str, str] | None = None,
    ) -> list[JobRow]:
        """Jobs newest first (``created_at`` then ``id``, both descending), after a cursor position."""
        where, params = [], []
        if engine_id is not None:
            where.append("engine_id = ?")
            params.append(engine_id)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if before is not None:
            where.append("(created_at < ? OR (created_at = ? AND id < ?))")
            params.extend([before[0], before[0], before[1]])
        sql = "SELECT * FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        return [_job(row) for row in self._db.execute(sql, (*params, limit))]

    def requeue_interrupted(self) -> int:
        """Put jobs a stopped or crashed engine left ``processing`` back in the queue."""
        with self._write() as db:
            return db.execute(
                "UPDATE jobs SET status = 'queued', steps_json = '[]' WHERE status = 'processing'"
            ).rowcount

    def claim_queued(self, limit: int) -> list[JobRow]:
        """Move up to ``limit`` of the oldest queued jobs to ``processing`` and return them."""
        if limit <= 0:
            return []
        if self._db.execute("SELECT 1 FROM jobs WHERE status = 'queued' LIMIT 1").fetchone() is None:
            return []  # the common idle case: no write transaction (and no WAL commit) for nothing
        started = iso_now()
        steps = json.dumps([{"stage": "localize", "status": "processing", "startedAt": started, "completedAt": None}])
        with self._write() as db:
            ids = [
                row["id"]
                for row in db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY rowid LIMIT ?", (limit,))
            ]
            db.executemany(
                "UPDATE jobs SET status = 'processing', steps_json = ? WHERE id = ?", [(steps, i) for i in ids]
            )
        return [job for job in (self.get_job(i) for i in ids) if job is not None]

    def finish_job(
        self,
        job_id: str,
        *,
        status: str,
        output: Any,
        warnings: list[Any],
        steps: list[dict[str, Any]],
        error_message: str | None,
        completed_at: str,
        delivery: NewDelivery | None,
        now: float,
    ) -> bool:
        """Record a terminal state and, in the same transaction, queue its webhook delivery.

        Returns False (and changes nothing) if the job was not ``processing`` any more.
        """
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET status = ?, output_json = ?, warnings_json = ?, steps_json = ?,"
                " error_message = ?, completed_at = ? WHERE id = ? AND status = 'processing'",
                (
                    status,
                    json.dumps(output, ensure_ascii=False) if output is not None else None,
                    json.dumps(warnings, ensure_ascii=False),
                    json.dumps(steps),
                    error_message,
                    completed_at,
                    job_id,
                ),
            ).rowcount
            if not changed:
                return False
            self._bump("jobs_failed" if status == "failed" else "jobs_completed")
            if delivery is not None:
                db.execute(
                    "INSERT OR IGNORE INTO deliveries(webhook_id, job_id, url, payload, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (delivery.webhook_id, job_id, delivery.url, delivery.payload, now),
                )
        return True

    # -- deliveries --------------------------------------------------------------------------

    def pending_deliveries(self) -> list[tuple[str, float]]:
        """``(webhook_id, next_attempt_at)`` of every undelivered message, soonest first."""
        rows = self._db.execute(
            "SELECT webhook_id, next_attempt_at FROM deliveries"
            " WHERE delivered_at IS NULL AND gave_up = 0 ORDER BY next_attempt_at"
        )
        return [(row["webhook_id"], float(row["next_attempt_at"])) for row in rows]

    def get_delivery(self, webhook_id: str) -> DeliveryRow | None:
        row = self._db.execute("SELECT * FROM deliveries WHERE webhook_id = ?", (webhook_id,)).fetchone()
        if row is None:
            return None
        return DeliveryRow(
            webhook_id=row["webhook_id"],
            job_id=row["job_id"],
            url=row["url"],
            payload=row["payload"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            delivered_at=row["delivered_at"],
            gave_up=bool(row["gave_up"]),
        )

    def record_delivery_success(self, webhook_id: str, *, now: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, delivered_at = ?, last_error = NULL"
                " WHERE webhook_id = ?",
                (now, webhook_id),
            )
            self._bump("deliveries_succeeded")

    def record_delivery_failure(self, webhook_id: str, *, error: str, retry_at: float | None) -> None:
        """Count a failed attempt; ``retry_at=None`` means the schedule is exhausted: give up."""
        with self._write() as db:
            if retry_at is None:
                db.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, gave_up = 1, last_error = ? WHERE webhook_id = ?",
                    (error, webhook_id),
                )
                self._bump("deliveries_failed")
            else:
                db.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                    " WHERE webhook_id = ?",
                    (retry_at, error, webhook_id),
                )


def _group(row: sqlite3.Row) -> GroupRow:
    return GroupRow(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        body_hash=row["body_hash"],
        source_locale=row["source_locale"],
        engine_id=row["engine_id"],
        request=json.loads(row["request_json"]),
        callback_url=row["callback_url"],
        created_at=row["created_at"],
    )


def _job(row: sqlite3.Row) -> JobRow:
    return JobRow(
        id=row["id"],
        group_id=row["group_id"],
        position=row["position"],
        target_locale=row["target_locale"],
        engine_id=row["engine_id"],
        status=row["status"],
        output=json.loads(row["output_json"]) if row["output_json"] is not None else None,
        warnings=json.loads(row["warnings_json"]),
        steps=json.loads(row["steps_json"]),
        error_message=row["error_message"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
    )
