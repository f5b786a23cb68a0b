"""Group status and the per-group views derived from its jobs.

Kept apart from the store and the routes because three places need the same rules: the
REST group endpoint, the WebSocket snapshot and the worker deciding when to announce
``group.completed``. Rules (api-contracts §1.6): ``pending`` while every job is queued,
``processing`` while some job has started or finished but not all are terminal, then
``completed`` (no failures; warnings still count as success), ``partial`` (some failed)
or ``failed`` (all failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

JOB_STATUSES = ("queued", "processing", "completed", "completed_with_warnings", "failed")
SUCCESS = frozenset({"completed", "completed_with_warnings"})
TERMINAL = frozenset({"completed", "completed_with_warnings", "failed"})


class JobLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def target_locale(self) -> str: ...
    @property
    def status(self) -> str: ...


def group_status(jobs: Sequence[JobLike]) -> str:
    """``pending`` | ``processing`` | ``completed`` | ``partial`` | ``failed``."""
    if jobs and all(j.status in TERMINAL for j in jobs):
        failed = sum(j.status == "failed" for j in jobs)
        if failed == len(jobs):
            return "failed"
        return "partial" if failed else "completed"
    if all(j.status == "queued" for j in jobs):
        return "pending"
    return "processing"


def is_done(jobs: Sequence[JobLike]) -> bool:
    return bool(jobs) and all(j.status in TERMINAL for j in jobs)


def rest_counts(jobs: Sequence[JobLike]) -> dict[str, int]:
    """The four disjoint counts of the REST group view (they add up to ``totalJobs``)."""
    return {
        "totalJobs": len(jobs),
        "completedJobs": sum(j.status == "completed" for j in jobs),
        "completedWithWarningsJobs": sum(j.status == "completed_with_warnings" for j in jobs),
        "failedJobs": sum(j.status == "failed" for j in jobs),
        "pendingJobs": sum(j.status not in TERMINAL for j in jobs),
    }


def ws_snapshot(group_id: str, jobs: Sequence[JobLike]) -> dict[str, Any]:
    """The WebSocket ``snapshot`` (seed 001). ``completedJobs`` counts every success, with or
    without warnings, because the socket has no separate warnings count."""
    return {
        "groupId": group_id,
        "totalJobs": len(jobs),
        "completedJobs": sum(j.status in SUCCESS for j in jobs),
        "failedJobs": sum(j.status == "failed" for j in jobs),
        "jobs": {j.id: {"locale": j.target_locale, "status": j.status} for j in jobs},
    }
