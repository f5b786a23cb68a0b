"""KeyRules: Lingo.dev-compatible key patterns for lockedKeys / ignoredKeys / preservedKeys."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from daemon.keyrules import KeyRules, pattern_regex, validate_pattern


def covers(pattern: str, key: str) -> bool:
    return KeyRules(locked=[pattern]).classify(key) == "locked"


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "empty"),
        ("/legal/terms", "must not start with '/'"),
        ("legal//terms", "empty segment"),
        ("legal/", "empty segment"),
        ("/", "must not start"),
    ],
)
def test_invalid_patterns_are_explained(pattern: str, problem: str) -> None:
    message = validate_pattern(pattern)
    assert message is not None and problem in message
    with pytest.raises(ValueError, match="invalid key pattern"):
        KeyRules(ignored=[pattern])


@pytest.mark.parametrize("pattern", ["a", "legal/terms", "*", "**", "a/**/b", "modules/ai.translation", "a~1b"])
def test_valid_patterns(pattern: str) -> None:
    assert validate_pattern(pattern) is None


# Examples from the Lingo.dev docs (cli/translation-keys, key-locking, key-ignoring, key-preserving).
@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("brand/name", "brand/name", True),
        ("config/apiUrl", "config/apiUrl", True),
        ("brand/name", "brand", False),
        ("internal/*", "internal/debug", True),
        ("internal/*", "internal/testData", True),
        ("internal/*", "welcome", False),
        ("navigation/menuItems/*", "navigation/menuItems/home", True),
        ("modules/ai.translation", "modules/ai.translation", True),
        ("modules/ai.translation", "modules/ai", False),
        ("legal/privacy/full", "legal/privacy/full", True),
    ],
)
def test_documented_examples(pattern: str, key: str, expected: bool) -> None:
    assert covers(pattern, key) is expected


# Cases from lingo.dev's packages/cli/src/cli/utils/key-matching.spec.ts.
@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("api", "api/users", True),
        ("api", "api.users", True),
        ("settings", "settings/theme", True),
        ("api", "other/key", False),
        ("inbox", "inbox", True),
        ("inbox", "inbox_url", False),
        ("inbox", "inboxes", False),
        ("inbox", "inbox.title", True),
        ("inbox", "inbox/details", True),
        ("inbox", "inbox.nested.key", True),
        ("inbox", "inbox-0", True),
        ("api/*/users", "api/v1/users", True),
        ("api/*/users", "api/users", False),
        ("settings/*", "settings/notifications", True),
        ("steps/*/type", "steps/0/type", True),
        ("steps/*/type", "steps/0/name", False),
        ("learningGoals/*/goal", "learningGoals/0/goal", True),
    ],
)
def test_lingo_dev_matching_cases(pattern: str, key: str, expected: bool) -> None:
    assert covers(pattern, key) is expected


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("internal/*", "internal/a/b", True),  # a wildcard match covers what is below it too
        ("internal/*", "internal", False),
        ("a/*/c", "a/b/c/d", True),
        ("a/*/c", "a/b/x/c", False),  # one * is one segment
        ("a/**/c", "a/c", True),
        ("a/**/c", "a/b/x/c", True),
        ("a/**/c", "a/b/x/cc", False),
        ("**", "anything/at/all", True),
        ("**/title", "page/title", True),
        ("**/title", "title", True),
        ("a/**", "a", True),
        ("a/**", "ab", False),
        ("btn*", "btn-primary", True),
        ("*.title", "Page.title", True),
        ("*.title", "Page.titles", False),
        ("a?", "ab", False),  # only * is special
        ("a?", "a?", True),
        ("a[0]", "a[0]", True),
        ("a(b)+", "a(b)+", True),
        ("a~1b", "a~1b/c", True),  # the object key "a/b", escaped as in daemon.keypaths
        ("a~1b", "a/b", False),
        ("*", "line\nbreak/x", True),
    ],
)
def test_wildcards_and_prefixes(pattern: str, key: str, expected: bool) -> None:
    assert covers(pattern, key) is expected


def test_precedence_ignored_then_locked_then_preserved() -> None:
    rules = KeyRules(locked=["a", "b"], ignored=["a/x"], preserved=["a", "b", "c"])
    assert rules.classify("a/x") == "ignored"
    assert rules.classify("a/y") == "locked"
    assert rules.classify("b") == "locked"
    assert rules.classify("c/d") == "preserved"
    assert rules.classify("d") == "translate"
    assert KeyRules().classify("anything") == "translate"


def test_positional_lists_as_the_syncer_passes_them() -> None:
    rules = KeyRules(["locked"], ["ignored"], ["preserved"])
    assert [rules.classify(k) for k in ("locked", "ignored", "preserved")] == ["locked", "ignored", "preserved"]


def test_rules_are_frozen_hashable_and_compare_by_patterns() -> None:
    patterns = ["a"]
    rules = KeyRules(locked=patterns)
    patterns.append("b")  # the caller's list is copied
    assert rules.locked == ("a",)
    assert rules == KeyRules(locked=("a",))
    assert hash(rules) == hash(KeyRules(locked=["a"]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.locked = ("x",)  # type: ignore[misc]
    with pytest.raises(TypeError, match="list of patterns"):
        KeyRules(locked="a/b")


def test_many_patterns_compile_into_one_regex() -> None:
    rules = KeyRules(locked=[f"section{n}/*" for n in range(500)])
    assert rules.classify("section499/x") == "locked"
    assert rules.classify("section500/x") == "translate"


# --- properties against an independent reference matcher -------------------------------------


def _segment_matches(pattern: str, segment: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, segment, re.DOTALL) is not None


def _last_matches(pattern: str, segment: str) -> bool:
    return _segment_matches(pattern, segment) or any(
        segment[i] in ".-" and _segment_matches(pattern, segment[:i]) for i in range(len(segment))
    )


def reference(pattern: str, key: str) -> bool:
    """Segment-by-segment recursive matcher: the rules of the module docstring, spelled out."""
    psegs, ksegs = pattern.split("/"), key.split("/")

    def match(p: int, k: int) -> bool:
        if p == len(psegs):
            return True  # everything below a match is covered
        if psegs[p] == "**":
            return any(match(p + 1, j) for j in range(k, len(ksegs) + 1))
        if k == len(ksegs):
            return False
        ok = _last_matches if p == len(psegs) - 1 else _segment_matches
        return ok(psegs[p], ksegs[k]) and match(p + 1, k + 1)

    return match(0, 0)


KEYS = st.lists(st.text(alphabet="ab.-*?~\n", max_size=3), min_size=1, max_size=4).map("/".join)
SEGMENTS = st.one_of(st.just("**"), st.text(alphabet="ab.-*", min_size=1, max_size=3))
PATTERNS = st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join)


@given(PATTERNS, KEYS)
def test_compiled_rules_agree_with_the_reference(pattern: str, key: str) -> None:
    assert covers(pattern, key) is reference(pattern, key)


@given(KEYS, st.lists(st.text(alphabet="ab.-*", max_size=3), max_size=3))
def test_a_key_as_pattern_covers_itself_and_everything_below(key: str, below: list[str]) -> None:
    literal = key.replace("*", "")
    assume(validate_pattern(literal) is None)
    assert covers(literal, literal)
    assert covers(literal, "/".join([literal, *below])) or not below


@given(st.lists(PATTERNS, max_size=4), st.lists(PATTERNS, max_size=4), st.lists(PATTERNS, max_size=4), KEYS)
def test_classify_is_precedence_over_single_pattern_matches(
    locked: list[str], ignored: list[str], preserved: list[str], key: str
) -> None:
    expected = "translate"
    for name, patterns in (("preserved", preserved), ("locked", locked), ("ignored", ignored)):
        if any(reference(p, key) for p in patterns):
            expected = name
    assert KeyRules(locked, ignored, preserved).classify(key) == expected


def test_pattern_regex_is_exposed_for_debugging() -> None:
    assert re.fullmatch(pattern_regex("a/*"), "a/b/", re.DOTALL)
