"""The planner decides per locale and key; each rule has a test that a wrong rule would break."""

from __future__ import annotations

from daemon.checksums import value_hash
from daemon.keyrules import KeyRules
from daemon.planner import LocaleInput, plan_document
from daemon.state.store import LocaleKeyRecord

RULES = KeyRules(locked=["meta/build"], ignored=["debug/*"], preserved=["legal"])


def rec(value: str, *, written: str | None = None, provenance: str = "machine", version: int = 1) -> LocaleKeyRecord:
    return LocaleKeyRecord(value_hash(value), version, value_hash(written) if written else None, provenance, "ljb_x", 1)


def plan_de(source, target, records, previous=None, rules=RULES):  # type: ignore[no-untyped-def]
    plan = plan_document("doc", source, previous or {}, [LocaleInput("de", target, records)], rules)
    return plan, plan.locales[0]


def test_new_keys_are_sent_and_only_changed_keys_later() -> None:
    source = {"a": "Hello", "b": "World"}
    plan, de = plan_de(source, None, {})
    assert de.send.keys() == {"a", "b"}
    assert plan.data_to_send() == source
    records = {"a": rec("Hello", written="Hallo"), "b": rec("World", written="Welt")}
    _, de = plan_de({"a": "Hello", "b": "Earth"}, {"a": "Hallo", "b": "Welt"}, records)
    assert de.send.keys() == {"b"}
    assert de.reasons["b"] == "source changed"


def test_locked_keys_are_copied_not_sent() -> None:
    _, de = plan_de({"meta/build": "2026.11", "a": "x"}, {"meta/build": "old"}, {})
    assert "meta/build" not in de.send
    assert de.write == {"meta/build": "2026.11"}


def test_non_string_leaves_are_copied_not_sent() -> None:
    _, de = plan_de({"n": 3, "flag": True, "none": None}, None, {})
    assert de.send == {}
    assert de.write == {"n": 3, "flag": True, "none": None}


def test_ignored_keys_are_never_sent_and_removed_from_targets() -> None:
    _, de = plan_de({"debug/x": "dbg", "a": "A"}, {"debug/x": "dbg", "debug/y": "old"}, {})
    assert "debug/x" not in de.send
    assert sorted(de.delete) == ["debug/x", "debug/y"]


def test_preserved_keys_are_initialised_once_and_never_overwritten() -> None:
    _, de = plan_de({"legal/imprint": "Imprint"}, None, {})
    assert de.send.keys() == {"legal/imprint"}
    _, de = plan_de({"legal/imprint": "Imprint v2"}, {"legal/imprint": "Impressum"}, {"legal/imprint": rec("Imprint")})
    assert de.send == {} and de.write == {}


def test_existing_translation_is_adopted_not_resent() -> None:
    _, de = plan_de({"a": "Hello"}, {"a": "Hallo"}, {})
    assert de.send == {}
    assert de.adopt == {"a": value_hash("Hallo")}


def test_manual_edit_is_detected_and_not_resent() -> None:
    _, de = plan_de({"a": "Hello"}, {"a": "Servus"}, {"a": rec("Hello", written="Hallo")})
    assert de.human == {"a": value_hash("Servus")}
    assert de.send == {}
    # once recorded as human, a later source change does not resend it either
    _, de = plan_de({"a": "Hi"}, {"a": "Servus"}, {"a": rec("Hello", written="Servus", provenance="human")})
    assert de.send == {}


def test_value_of_a_received_result_not_yet_recorded_is_not_a_manual_edit() -> None:
    """A crash between a result's file write and its record: the scan must not keep the value
    as a person's, and still sends the key whose source moved on (found by bench/chaos.py)."""
    records = {"a": rec("Hello", written="Hallo"), "b": rec("World", written="Welt")}
    target = {"a": "Servus", "b": "Erde"}
    plan = plan_document("doc", {"a": "Hello", "b": "Earth"}, {},
                         [LocaleInput("de", target, records, {"a": frozenset({"Servus"}), "b": frozenset({"Erde"})})], RULES)
    de = plan.locales[0]
    assert de.human == {}
    assert de.send.keys() == {"b"}  # its source changed; "a" waits for its result's apply
    _, without = plan_de({"a": "Hello", "b": "Earth"}, target, records)
    assert without.human.keys() == {"a", "b"}  # the same values with no received result: edits


def test_value_we_wrote_then_removed_from_target_is_sent_again() -> None:
    _, de = plan_de({"a": "Hello"}, {}, {"a": rec("Hello", written="Hallo")})
    assert de.send.keys() == {"a"}


def test_sent_but_not_yet_written_is_not_resent() -> None:
    _, de = plan_de({"a": "Hello"}, None, {"a": rec("Hello")})
    assert de.send == {}


def test_deleted_source_keys_are_removed_but_unrelated_target_keys_kept() -> None:
    source = {"a": "Hello"}
    target = {"a": "Hallo", "gone": "Weg", "theirs": "Eigenes"}
    records = {"a": rec("Hello", written="Hallo"), "gone": rec("Gone", written="Weg")}
    _, de = plan_de(source, target, records, previous={"a": "x", "gone": "y"})
    assert de.delete == ["gone"]
    assert de.reasons["gone"] == "deleted from source"


def test_data_sent_is_union_of_locale_needs_in_source_order() -> None:
    source = {"a": "A", "b": "B", "c": "C"}
    locales = [
        LocaleInput("de", {"a": "x", "b": "y", "c": "z"}, {k: rec(v, written=w) for (k, v), w in zip(source.items(), "xyz", strict=True)}),
        LocaleInput("fr", None, {}),
    ]
    plan = plan_document("doc", source, {}, locales, KeyRules())
    assert plan.locales_to_send == ["fr"]
    assert list(plan.data_to_send()) == ["a", "b", "c"]


def test_localized_checksums_equal_hashing_every_expanded_key() -> None:
    """Reusing the source's checksums must give what hashing the expansion gives, for a
    document without plurals (its own expansion) and for one whose forms a locale adds or drops."""
    from daemon.checksums import value_hash
    from daemon.planner import localized_checksums
    from daemon.plurals import expand_for

    plain = {"a": "Hello", "b": "World {count}", "n": 3}
    plural = {"items/#one": "{count} item", "items/#other": "{count} items", "title": "Files"}
    for source in (plain, plural):
        sums = {key: value_hash(value) for key, value in source.items()}
        for locale in ("de", "pl", "ja", "ar"):
            localized = expand_for(source, locale)
            assert localized_checksums(source, sums, localized) == {k: value_hash(v) for k, v in localized.items()}
    assert set(expand_for(plural, "pl")) != set(plural)  # the plural case did expand (few, many)
