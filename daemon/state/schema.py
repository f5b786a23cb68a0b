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
- ``noop_snapshot``: the stats behind ``daemon.fastpath``'s no-op answer; triggers delete it
  on any change to the tables above.
- ``scan_fingerprints``: the stat of a document's files when a scan last found nothing left
  to do; a scan that sees the same stat skips the document without reading it. Triggers drop
  a document's fingerprint whenever anything the planner reads about it changes in here, so
  a skip can only repeat a decision made on the same inputs.
"""

from __future__ import annotations

SCHEMA_VERSION = 3
"""1: the tables up to ``meta``; 2: ``noop_snapshot``, ``scan_fingerprints`` and their triggers;
3: the indexes on state that let the loop's questions skip the request and result bodies.
A database at an older version gets what is missing at the next start (``StateStore._migrate``)."""

TABLES = (
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
    # ``sync --once`` and the daemon ask after every pass what is pending and how far each
    # document got: without these, each question read every row with its request body
    # (a cold sync of 200 files read 43,000 pages for them, most of its reads)
    "CREATE INDEX IF NOT EXISTS submissions_progress ON submissions (state, id, document, version)",
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
    "DROP INDEX IF EXISTS jobs_state",  # schema 1 and 2; jobs_progress leads with state too
    "CREATE INDEX IF NOT EXISTS jobs_progress ON jobs (state, document, version)",
    "CREATE INDEX IF NOT EXISTS jobs_group ON jobs (group_id)",
    """CREATE TABLE IF NOT EXISTS inbox (
        webhook_id TEXT PRIMARY KEY,
        received_at REAL NOT NULL,
        body BLOB NOT NULL,
        processed_at REAL,
        outcome TEXT
    )""",
    "DROP INDEX IF EXISTS inbox_unprocessed",  # schema 1 and 2: the queue's order took a sort
    "CREATE INDEX IF NOT EXISTS inbox_queue ON inbox (processed_at, received_at)",
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
    """CREATE TABLE IF NOT EXISTS noop_snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS scan_fingerprints (
        document TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL
    )""",
)

# what the planner reads about a document: a change drops that document's scan fingerprint
_PLANNER_INPUTS = ("locale_keys", "source_keys", "jobs", "submissions")
# any change at all: drops the no-op snapshot of ``daemon.fastpath``
_STATE_TABLES = ("documents", "source_keys", "locale_keys", "submissions", "jobs", "inbox", "pending_commits")
_EVENTS = ("INSERT", "UPDATE", "DELETE")

TRIGGERS = tuple(
    f"""CREATE TRIGGER IF NOT EXISTS fingerprint_{table}_{event.lower()} AFTER {event} ON {table}
        BEGIN DELETE FROM scan_fingerprints WHERE document = {"OLD" if event == "DELETE" else "NEW"}.document; END"""
    for table in _PLANNER_INPUTS
    for event in _EVENTS
) + tuple(
    f"""CREATE TRIGGER IF NOT EXISTS noop_snapshot_{table}_{event.lower()} AFTER {event} ON {table}
        BEGIN DELETE FROM noop_snapshot; END"""
    for table in _STATE_TABLES
    for event in _EVENTS
)

STATEMENTS = TABLES + TRIGGERS
TABLE_NAMES = tuple(
    statement.split("EXISTS", 1)[1].split("(", 1)[0].strip() for statement in TABLES if "CREATE TABLE" in statement
)
