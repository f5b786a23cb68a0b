"""StateStore queries that answer without loading rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from daemon.state.store import StateStore


def test_open_work_counts_pending_submissions_and_unapplied_jobs(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        assert store.open_work_count() == 0 == store.pending_submission_count()
        for n in range(3):
            store.add_submission(f"doc{n}", 1, f"key-{n}", {"targetLocales": ["de", "fr"]}, {"de": {}, "fr": {}})
        assert store.open_work_count() == 3
        first, second, _third = store.pending_submissions()
        store.submission_accepted(first, "ljg_1", [("ljb_1", "de", "queued"), ("ljb_2", "fr", "queued")])
        store.submission_accepted(second, "ljg_2", [("ljb_3", "de", "queued"), ("ljb_4", "fr", "queued")])
        assert store.open_work_count() == 1 + 4  # one pending submission, four open jobs
        assert store.pending_submission_count() == 1
        store.job_received("ljb_1", "completed", {"k": "v"}, None)  # received: still to apply
        store.job_received("ljb_2", "failed", None, "boom")  # failed: done
        store.job_applied("ljb_3")  # applied: done
        assert store.open_work_count() == 1 + 2  # the pending submission, ljb_1 (received), ljb_4 (open)
        assert store.open_work_count() == len(store.pending_submissions()) + len(store.jobs(states=("open", "received")))
    finally:
        store.close()


def _plans_of(store: StateStore, ask: list[Callable[[], object]]) -> dict[str, list[str]]:
    """The query plan of every SELECT the calls in ``ask`` ran (captured as SQLite ran them)."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        for call in ask:
            call()
    finally:
        store.conn.set_trace_callback(None)
    return {
        sql: [str(row[3]) for row in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
    }


def test_the_loops_progress_questions_read_no_request_or_result_bodies(tmp_path: Path) -> None:
    """``sync --once`` and the daemon ask these after every pass; a plan that scans the
    submissions or jobs table reads every request and result body (in a cold sync of 200
    files, 43,000 page reads), and a sorted inbox read sorts the bodies."""
    store = StateStore(tmp_path / "state.db")
    try:
        plans = _plans_of(store, [store.pending_submissions, store.pending_submission_count,
                                  store.open_work_count, store.states, store.inbox_unprocessed])
        assert len(plans) == 6  # states() asks two questions
        for sql, plan in plans.items():
            for step in plan:
                if step.startswith("SCAN ") and "CONSTANT ROW" not in step:
                    assert "COVERING INDEX" in step, (sql, plan)
                # the queue reads (pending submissions, the inbox) come in order from an index,
                # not from a sort of the rows with their bodies
                assert "TEMP B-TREE" not in step, (sql, plan)
    finally:
        store.close()


def test_savepoint_journals_and_sorts_stay_in_memory(tmp_path: Path) -> None:
    """Applying a result inside a savepoint journals the pages it changes; in a file under
    /var/tmp that was 47,000 page writes in a cold sync of 200 files."""
    store = StateStore(tmp_path / "state.db")
    sibling = store.sibling()
    try:
        for connection in (store.conn, sibling.conn):
            assert connection.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
    finally:
        sibling.close()
        store.close()
