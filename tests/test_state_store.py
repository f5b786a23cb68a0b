"""StateStore queries that answer without loading rows."""

from __future__ import annotations

from pathlib import Path

from daemon.state.store import StateStore


def test_open_work_counts_pending_submissions_and_unapplied_jobs(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        assert store.open_work_count() == 0
        for n in range(3):
            store.add_submission(f"doc{n}", 1, f"key-{n}", {"targetLocales": ["de", "fr"]}, {"de": {}, "fr": {}})
        assert store.open_work_count() == 3
        first, second, _third = store.pending_submissions()
        store.submission_accepted(first, "ljg_1", [("ljb_1", "de", "queued"), ("ljb_2", "fr", "queued")])
        store.submission_accepted(second, "ljg_2", [("ljb_3", "de", "queued"), ("ljb_4", "fr", "queued")])
        assert store.open_work_count() == 1 + 4  # one pending submission, four open jobs
        store.job_received("ljb_1", "completed", {"k": "v"}, None)  # received: still to apply
        store.job_received("ljb_2", "failed", None, "boom")  # failed: done
        store.job_applied("ljb_3")  # applied: done
        assert store.open_work_count() == 1 + 2  # the pending submission, ljb_1 (received), ljb_4 (open)
        assert store.open_work_count() == len(store.pending_submissions()) + len(store.jobs(states=("open", "received")))
    finally:
        store.close()
