"""``locsync retry``: send the keys of failed locales again, as a new version.

A failed job wrote nothing, but its keys are recorded as sent (that is how the planner
knows not to send them twice). Retrying clears the sent checksum of exactly those keys,
for the failed job's locale, where that job is still the last one that sent them; the
next scan then plans them like any unsent key, and the outbox submits a new version with
a new idempotency key. Run again, it finds nothing left to clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.state.store import StateStore


@dataclass(frozen=True)
class RetryItem:
    document: str
    locale: str
    version: int
    job_id: str
    keys: tuple[str, ...]

    def line(self) -> str:
        return (f"{self.document} [{self.locale}]: {len(self.keys)} keys from failed job {self.job_id} "
                f"(version {self.version})")


def plan_retry(store: StateStore, *, document: str | None = None, locales: set[str] | None = None) -> list[RetryItem]:
    """The failed jobs (optionally of one document and some locales) with keys still to resend."""
    items = []
    for job in store.jobs(states=("failed",)):
        if document is not None and job.document != document:
            continue
        if locales and job.locale not in locales:
            continue
        records = store.locale_records(job.document, job.locale)
        keys = tuple(sorted(key for key, record in records.items()
                            if record.sent_version == job.version and record.sent_checksum is not None))
        if keys:
            items.append(RetryItem(job.document, job.locale, job.version, job.job_id, keys))
    return items


def clear_sent(store: StateStore, items: list[RetryItem]) -> None:
    for item in items:
        store.forget_sent(item.document, item.locale, list(item.keys))
