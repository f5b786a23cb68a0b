"""merge_result after a crash between a result's file write and its record."""

from __future__ import annotations

import pytest

from daemon.checksums import value_hash
from daemon.keyrules import KeyRules
from daemon.state.store import LocaleKeyRecord
from daemon.writeback import merge_result

OLD_SOURCE, NEW_SOURCE = "juliet charlie bravo", "lima juliet foxtrot"
V120, V121 = "⟦de⟧ golf golf", "⟦de⟧ ĵúĺíéţ çĥáŕĺíé ƀŕáṽó"


def record(*, sent_version: int, sent_source: str | None) -> LocaleKeyRecord:
    """The record as the crash left it: v121 sent, but the target's value recorded is v120's."""
    return LocaleKeyRecord(
        sent_checksum=value_hash(sent_source) if sent_source is not None else None, sent_version=sent_version,
        written_hash=value_hash(V120), provenance="machine", job_id="ljb_120", written_version=120,
    )


@pytest.mark.parametrize(
    ("rec", "source_now", "why"),
    [
        (record(sent_version=121, sent_source=OLD_SOURCE), NEW_SOURCE, "the source moved on: resend"),
        (record(sent_version=122, sent_source=NEW_SOURCE), NEW_SOURCE, "a newer version went out: stale"),
    ],
)
def test_a_value_this_result_already_wrote_is_recorded_as_locsyncs_not_a_persons(
    rec: LocaleKeyRecord, source_now: str, why: str
) -> None:
    """The target holds v121's translation (written before the crash), the record still v120's.

    Stale or not, v121 must be recorded as written by locsync: left unrecorded, the next scan
    takes the value for a translator's edit and keeps it forever (found by bench/chaos.py).
    """
    outcome = merge_result(
        target={"k": V121}, result={"k": V121}, version=121, source={"k": source_now},
        source_checksums={"k": value_hash(source_now)}, records={"k": rec}, rules=KeyRules(),
    )
    assert outcome.stale == ["k"], why
    assert outcome.written == {"k": (value_hash(V121), "machine")}
    assert outcome.values == {"k": V121}  # nothing overwritten
    assert outcome.kept_human == []


def test_a_stale_result_over_a_different_value_records_nothing() -> None:
    """Only the very value this result carries is claimed: a person's edit stays theirs."""
    outcome = merge_result(
        target={"k": "⟦de⟧ hand edit"}, result={"k": V121}, version=121, source={"k": NEW_SOURCE},
        source_checksums={"k": value_hash(NEW_SOURCE)}, records={"k": record(sent_version=121, sent_source=OLD_SOURCE)},
        rules=KeyRules(),
    )
    assert outcome.written == {}
    assert outcome.resend == ["k"]


def test_an_older_result_than_the_recorded_write_is_not_claimed() -> None:
    """v119 carries the same text as the unrecorded v121 write, but it came before v120's
    recorded write, so it cannot be that write: recording it would take written_version back."""
    outcome = merge_result(
        target={"k": V121}, result={"k": V121}, version=119, source={"k": NEW_SOURCE},
        source_checksums={"k": value_hash(NEW_SOURCE)}, records={"k": record(sent_version=121, sent_source=OLD_SOURCE)},
        rules=KeyRules(),
    )
    assert outcome.stale == ["k"]
    assert outcome.written == {}
