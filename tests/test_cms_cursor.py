"""The CMS change-feed cursor: overlap window, seen-set, persistence, and a lossless-feed property."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.cms.cursor import Cursor
from daemon.cms.feed import FeedItem

BASE = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def stamp(ms: int) -> str:
    """A timestamp ``ms`` milliseconds after BASE, shaped like Strapi's (ms and ``Z``)."""
    moment = BASE + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- since() ------------------------------------------------------------------------------


def test_since_is_none_without_a_position() -> None:
    assert Cursor().since(5.0) is None


def test_since_subtracts_the_overlap_and_formats_with_ms_and_z() -> None:
    assert Cursor("2024-05-01T10:00:00.000Z").since(5.0) == "2024-05-01T09:59:55.000Z"
    assert Cursor("2024-05-01T10:00:00.123Z").since(0.5) == "2024-05-01T09:59:59.623Z"
    # crossing a day boundary, and no overlap at all
    assert Cursor("2024-05-01T00:00:01.000Z").since(2.0) == "2024-04-30T23:59:59.000Z"
    assert Cursor("2024-05-01T10:00:00.007Z").since(0.0) == "2024-05-01T10:00:00.007Z"


def test_since_converts_offsets_and_naive_times_to_utc() -> None:
    assert Cursor("2024-05-01T12:00:00.000+02:00").since(1.0) == "2024-05-01T09:59:59.000Z"
    assert Cursor("2024-05-01T10:00:00").since(1.0) == "2024-05-01T09:59:59.000Z"
    # microseconds are cut to milliseconds, never rounded up past the position
    assert Cursor("2024-05-01T10:00:00.123999Z").since(0.0) == "2024-05-01T10:00:00.123Z"


def test_opaque_position_is_passed_as_is() -> None:
    for opaque in ("cursor-abc", "eyJ0IjoxfQ==", "12345", "seq:9"):
        assert Cursor(opaque).since(5.0) == opaque


# --- fresh() ------------------------------------------------------------------------------


def test_fresh_drops_pairs_already_seen_but_keeps_newer_changes_of_the_same_entry() -> None:
    cursor = Cursor(stamp(10), {"a": stamp(10), "b": stamp(8)})
    items = [FeedItem("b", stamp(8)), FeedItem("a", stamp(10)), FeedItem("c", stamp(11)), FeedItem("b", stamp(12))]
    assert cursor.fresh(items) == [FeedItem("c", stamp(11)), FeedItem("b", stamp(12))]


def test_fresh_keeps_each_entry_once_at_its_latest_change_in_feed_order() -> None:
    items = [
        FeedItem("a", stamp(1)),
        FeedItem("b", stamp(2)),
        FeedItem("a", stamp(3)),
        FeedItem("c", stamp(4)),
        FeedItem("b", stamp(5)),
    ]
    assert Cursor().fresh(items) == [FeedItem("a", stamp(3)), FeedItem("c", stamp(4)), FeedItem("b", stamp(5))]


def test_fresh_does_not_modify_the_cursor() -> None:
    cursor = Cursor(stamp(5), {"a": stamp(5)})
    cursor.fresh([FeedItem("b", stamp(6))])
    assert cursor == Cursor(stamp(5), {"a": stamp(5)})


# --- handled() ----------------------------------------------------------------------------


def test_handled_moves_the_position_forward_only() -> None:
    cursor = Cursor()
    cursor.handled(FeedItem("a", stamp(5_000)), 5.0)
    assert cursor.position == stamp(5_000)
    cursor.handled(FeedItem("b", stamp(3_000)), 5.0)  # committed late with an older timestamp
    assert cursor.position == stamp(5_000)
    assert cursor.seen == {"a": stamp(5_000), "b": stamp(3_000)}
    cursor.handled(FeedItem("c", stamp(6_000)), 5.0)
    assert cursor.position == stamp(6_000)


def test_handled_forgets_entries_older_than_position_minus_overlap() -> None:
    cursor = Cursor()
    cursor.handled(FeedItem("old", stamp(3_000)), 5.0)
    cursor.handled(FeedItem("edge", stamp(5_000)), 5.0)
    cursor.handled(FeedItem("mid", stamp(7_000)), 5.0)
    assert set(cursor.seen) == {"old", "edge", "mid"}
    cursor.handled(FeedItem("new", stamp(10_000)), 5.0)
    # horizon is 10.000 - 5 = 5.000: 'edge' sits exactly on it and must stay (the feed asks >= since)
    assert cursor.seen == {"edge": stamp(5_000), "mid": stamp(7_000), "new": stamp(10_000)}
    cursor.handled(FeedItem("newer", stamp(20_000)), 5.0)
    assert cursor.seen == {"newer": stamp(20_000)}


def test_handled_records_the_latest_handled_change_of_an_entry() -> None:
    cursor = Cursor()
    cursor.handled(FeedItem("a", stamp(1)), 5.0)
    cursor.handled(FeedItem("a", stamp(2)), 5.0)
    assert cursor.seen == {"a": stamp(2)}
    assert cursor.fresh([FeedItem("a", stamp(2))]) == []


def test_handled_with_an_opaque_position_keeps_only_ties_with_it() -> None:
    """An opaque cursor lists what is at or after it: only entries at the position can come back."""
    cursor = Cursor()
    cursor.handled(FeedItem("a", "tok-1"), 5.0)
    cursor.handled(FeedItem("b", "tok-2"), 5.0)
    assert cursor.position == "tok-2"
    assert cursor.seen == {"b": "tok-2"}
    assert cursor.since(5.0) == "tok-2"


# --- persistence --------------------------------------------------------------------------


def test_loads_dumps_round_trip() -> None:
    cursor = Cursor(stamp(9), {"x": stamp(8), "y/z": stamp(9), "ü": stamp(7)})
    text = cursor.dumps()
    assert json.loads(text) == {"position": stamp(9), "seen": {"x": stamp(8), "y/z": stamp(9), "ü": stamp(7)},
                                "retry": []}
    assert Cursor.loads(text) == cursor
    assert Cursor.loads(Cursor().dumps()) == Cursor()


def test_loads_of_nothing_is_a_fresh_cursor() -> None:
    assert Cursor.loads(None) == Cursor()
    assert Cursor.loads("") == Cursor()
    assert Cursor.loads('{"position": "p"}') == Cursor("p", {})


# --- the property: a timestamp feed with late commits inside the window loses nothing ------


@dataclass(frozen=True)
class Change:
    entry: str
    at: int
    """``updatedAt`` in ms after BASE."""
    visible: int
    """When the transaction commits (ms): at least ``at``, at most ``at + overlap``."""


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, list[Change], list[int], list[int | None]]:
    overlap = draw(st.sampled_from([0, 1, 5, 50, 1_000]))
    entries = draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=25))
    changes: list[Change] = []
    last: dict[str, tuple[int, int]] = {}
    clock = 0
    for entry in entries:
        clock += draw(st.integers(0, 30))  # ties across entries happen (same millisecond)
        at = clock
        prev = last.get(entry)
        if prev is not None and at <= prev[0]:
            at = prev[0] + 1  # one entry's versions have distinct, increasing timestamps
        delay = draw(st.integers(0, overlap))
        visible = max(at + delay, prev[1] if prev else 0)  # one entry's commits stay in order
        assert visible <= at + overlap
        last[entry] = (at, visible)
        changes.append(Change(entry, at, visible))
    horizon = max(c.visible for c in changes)
    polls = sorted(draw(st.lists(st.integers(0, horizon + 10), max_size=12)))
    polls.append(horizon + 1)  # a final poll once everything is committed
    # per poll: how many fresh items get handled before a (simulated) CMS error stops it
    stops = draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=len(polls), max_size=len(polls)))
    stops[-1] = None
    return overlap, changes, polls, stops


def feed(changes: list[Change], now: int, since: str | None) -> list[FeedItem]:
    """A timestamp feed: each entry's latest committed version with updatedAt >= since, oldest first."""
    current: dict[str, Change] = {}
    for change in changes:
        if change.visible <= now and (change.entry not in current or change.at > current[change.entry].at):
            current[change.entry] = change
    rows = sorted(current.values(), key=lambda c: (c.at, c.entry))
    return [FeedItem(c.entry, stamp(c.at)) for c in rows if since is None or stamp(c.at) >= since]


@given(scenarios())
def test_overlapping_polls_lose_no_change_and_repeat_none(
    scenario: tuple[int, list[Change], list[int], list[int | None]],
) -> None:
    overlap_ms, changes, polls, stops = scenario
    overlap = overlap_ms / 1000
    saved = Cursor().dumps()
    handled: list[tuple[str, str]] = []
    for now, stop in zip(polls, stops, strict=True):
        cursor = Cursor.loads(saved)  # the state survives only through the meta table
        items = cursor.fresh(feed(changes, now, cursor.since(overlap)))
        assert len({item.id for item in items}) == len(items)
        for item in items[:stop]:
            handled.append((item.id, item.updated_at))
            cursor.handled(item, overlap)
        saved = cursor.dumps()
        if stop is None:
            # after a complete poll, the latest committed version of every entry has been handled
            latest = {item.id: item.updated_at for item in feed(changes, now, None)}
            done = set(handled)
            assert all((entry, at) in done for entry, at in latest.items()), (latest, handled)
    assert len(handled) == len(set(handled)), handled
    final = {item.id: item.updated_at for item in feed(changes, polls[-1], None)}
    assert {entry for entry, _ in handled} == set(final)


@pytest.mark.parametrize(
    ("first", "later", "overlap"),
    [
        ("2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:05.123999Z", 5.0),
        ("2024-05-01T10:00:00.123+00:00", "2024-05-01T10:00:00.123+00:00", 0.0),
    ],
)
def test_timestamps_in_another_iso_shape_are_not_handled_twice(first: str, later: str, overlap: float) -> None:
    cursor = Cursor()
    cursor.handled(FeedItem("a", first), overlap)
    cursor.handled(FeedItem("b", later), overlap)
    since = cursor.since(overlap)
    assert since is not None
    # the CMS compares instants: 'a' is at or after 'since', so it is listed again
    assert datetime.fromisoformat(first) >= datetime.fromisoformat(since)
    assert cursor.fresh([FeedItem("a", first), FeedItem("b", later)]) == []
