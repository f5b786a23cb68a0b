"""The change-feed cursor: a timestamp, an overlap window, and what was already seen in it.

Timestamp feeds are not exact: two edits can share a millisecond, and a transaction can
commit after a later one with an earlier ``updatedAt``. So each poll asks again from
``cursor - overlap`` and skips the (entry, updatedAt) pairs it already handled inside that
window. Only entries handled in full move the cursor, so a crash or a CMS error part-way
through a page re-reads the rest next time. The state is JSON in the ``meta`` table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from daemon.cms.feed import FeedItem


@dataclass
class Cursor:
    """Where a source's feed stands."""

    position: str | None = None
    seen: dict[str, str] = field(default_factory=dict)
    """entry id -> the ``updatedAt`` handled, for entries inside the overlap window."""
    retry: list[str] = field(default_factory=list)
    """Entries whose last scan failed (a bad field, a blocked deletion, a write error): the cursor
    moved past them so the feed is not stuck, and each poll scans them again until one succeeds."""

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(data.get("position"), dict(data.get("seen", {})), list(data.get("retry", [])))

    def dumps(self) -> str:
        return json.dumps({"position": self.position, "seen": self.seen, "retry": self.retry}, sort_keys=True)

    def since(self, overlap_seconds: float) -> str | None:
        """What to ask the feed for: the position minus the overlap (None: from the beginning)."""
        if self.position is None:
            return None
        moment = parse_timestamp(self.position)
        if moment is None:
            return self.position  # not a timestamp: an opaque cursor, asked for as it is
        return _format(moment - timedelta(seconds=overlap_seconds))

    def fresh(self, items: list[FeedItem]) -> list[FeedItem]:
        """The items not handled yet, each entry once (its latest change)."""
        latest: dict[str, FeedItem] = {}
        for item in items:
            if self.seen.get(item.id) == item.updated_at:
                continue
            latest.pop(item.id, None)
            latest[item.id] = item  # re-inserted: keeps feed order by latest change
        return list(latest.values())

    def handled(self, item: FeedItem, overlap_seconds: float) -> None:
        """Record ``item`` as done: move the position and forget what left the window.

        Timestamps are compared as instants, not as text (a CMS may write microseconds or
        ``+00:00``); what is kept is everything at or after the very ``since()`` the next poll
        asks for, so nothing the feed can list again is forgotten.
        """
        if self.position is None or _later(item.updated_at, self.position):
            self.position = item.updated_at
        self.seen[item.id] = item.updated_at
        since = self.since(overlap_seconds)
        horizon = parse_timestamp(since) if since is not None else None
        if horizon is None:  # an opaque cursor: only ties with the position can be listed again
            self.seen = {k: v for k, v in self.seen.items() if v == self.position}
            return
        self.seen = {k: v for k, v in self.seen.items() if (parse_timestamp(v) or horizon) >= horizon}


def _later(a: str, b: str) -> bool:
    """``a`` is after ``b``: as instants when both are timestamps, as numbers when both are."""
    moment_a, moment_b = parse_timestamp(a), parse_timestamp(b)
    if moment_a is not None and moment_b is not None:
        return moment_a > moment_b
    if a.isdigit() and b.isdigit():
        return int(a) > int(b)
    return a > b


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 instant (naive means UTC), or None when ``value`` is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _format(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, the shape Strapi and most CMSs return."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
