"""The state database schema, created idempotently at start-up.

Tables, and the question each one answers:

- ``documents``: which version number does this document get next?
- ``source_keys``: what did each source key hold when we last planned (its checksum)?
- ``locale_keys``: per target locale and key, what did we last send (checksum, version),
  what did we last write (value hash) and where did the value come from (provenance)?
- ``submissions``: the outbox; a row exists before the provider is called and records the
  group after, so a crash between the two resubmits with the same idempotency key.
- ``jobs``: one per (group, locale); the result is stored before it is applied.
- ``inbox``: webhook deliveries, persisted before we answer 2xx; ``webhook_id`` dedupes.
- ``pending_commits``: files written but not yet committed (survives a crash).
- ``meta``: small facts (generated secrets, provider back-off until, schema version).
"""

from __future__ import annotations

SCHEMA_VERSION = 1

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS documents (
        id TEXT PRIMARY KEY,
        next_version INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE IF NOT EXISTS source_keys (
        document TEXT NOT NULL,
        key TEXT NOT NULL,
        checksum TEXT NOT NULL,
        PRIMARY KEY (document, key)
    )""",
    """CREATE TABLE IF NOT EXISTS locale_keys (
        document TEXT NOT NULL,
        locale TEXT NOT NULL,
        key TEXT NOT NULL,
        sent_checksum TEXT,
        sent_version INTEGER,
        written_hash TEXT,
        provenance TEXT,
        job_id TEXT,
        written_version INTEGER,
        updated_at REAL NOT NULL,
        PRIMARY KEY (document, locale, key)
    )""",
    """CREATE TABLE IF NOT EXISTS submissions (
        id INTEGER PRIMARY KEY,
        document TEXT NOT NULL,
        version INTEGER NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        request TEXT NOT NULL,
        state TEXT NOT NULL,
        group_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at REAL NOT NULL,
        submitted_at REAL,
        UNIQUE (document, version)
    )""",
    """CREATE TABLE IF NOT EXISTS jobs (
        job_id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        document TEXT NOT NULL,
        version INTEGER NOT NULL,
        locale TEXT NOT NULL,
        status TEXT NOT NULL,
        state TEXT NOT NULL,
        result TEXT,
        error TEXT,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state)",
    "CREATE INDEX IF NOT EXISTS jobs_group ON jobs (group_id)",
    """CREATE TABLE IF NOT EXISTS inbox (
        webhook_id TEXT PRIMARY KEY,
        received_at REAL NOT NULL,
        body BLOB NOT NULL,
        processed_at REAL,
        outcome TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS inbox_unprocessed ON inbox (processed_at)",
    """CREATE TABLE IF NOT EXISTS pending_commits (
        path TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        locale TEXT NOT NULL,
        group_id TEXT,
        written_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
)
