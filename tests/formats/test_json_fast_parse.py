"""``parse_fast`` (``json.loads`` underneath) must agree with the position-aware ``Parser`` exactly.

Whenever the fast path answers, the hand-written parser must accept the same text and produce
the same entries (types included: ``1`` is not ``1.0`` is not ``True``), the same items in the
same order (empty containers included), the same container kinds, the same whitespace after
the first ``:`` and ``,``, and the same span. When it cannot vouch (a syntax error, a repeated
key, ``NaN``, a number out of range, nesting too deep) it answers None and the ``Parser`` runs,
so errors keep their line and column. Checked on every JSON file of the corpus and on
generated files of every shape the formats write.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats._json import MAX_DEPTH, Parser, parse_document, parse_fast
from tests.helpers import shared_corpus

JSON_KINDS = ("json-flat", "json-nested", "flutter-arb", "apple-xcstrings", "other-chrome-messages-json",
              "other-docusaurus-json")


def slow(text: str) -> tuple[Parser, tuple[int, int]] | FormatError:
    parser = Parser(text)
    try:
        return parser, parse_document(parser, "t.json", empty_reads_as_value=True)
    except FormatError as exc:
        return exc


def typed(entries: dict[str, Any]) -> list[tuple[str, type, str]]:
    return [(key, type(value), repr(value)) for key, value in entries.items()]


def assert_agrees(text: str) -> bool:
    """True when the fast path answered (and agreed); False when it left the text to ``Parser``."""
    fast = Parser(text)
    span = parse_fast(fast)
    if span is None:
        assert (fast.entries, fast.items, fast.containers) == ({}, [], {}), "a refusal must leave the parser untouched"
        return False
    reference = slow(text)
    assert not isinstance(reference, FormatError), f"fast path accepted what Parser rejects: {reference}"
    parser, expected_span = reference
    assert span == expected_span
    assert typed(fast.entries) == typed(parser.entries)
    assert fast.items == parser.items
    assert fast.containers == parser.containers
    assert (fast.colon_ws, fast.comma_ws) == (parser.colon_ws, parser.comma_ws)
    return True


def corpus_files() -> list[Path]:
    corpus = shared_corpus()
    return sorted(p for kind in JSON_KINDS for p in (corpus / kind).rglob("*") if p.is_file() and p.suffix in
                  (".json", ".arb", ".xcstrings"))


def test_every_json_file_of_the_corpus() -> None:
    if not shared_corpus().is_dir():
        pytest.skip(f"the shared corpus ({shared_corpus()}) is not present")
    files = corpus_files()
    assert len(files) >= 20
    answered = sum(assert_agrees(p.read_bytes().decode("utf-8-sig")) for p in files)
    assert answered >= len(files) - 2  # all but files with repeated keys (one ARB file has one)


keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8) | st.sampled_from(
    ["a/b", "~", "~1", "", "k", "0", "a.b"])
leaves = (st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False, allow_infinity=False)
          | st.text(max_size=20) | st.just(-0.0))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=25)
layouts = st.fixed_dictionaries({
    "indent": st.sampled_from([None, 0, 2, 4, "\t"]),
    "separators": st.sampled_from([(",", ": "), (",", ":"), (", ", ": "), (", ", ":")]),
    "ensure_ascii": st.booleans(),
})


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, max_size=6), layouts, st.sampled_from(["", "\n", "  \n\n", "\r\n"]),
       st.sampled_from(["", " ", "\n"]))
def test_generated_files_agree(tree: dict[str, Any], layout: dict[str, Any], tail: str, head: str) -> None:
    text = head + json.dumps(tree, **layout) + tail
    assert assert_agrees(text), "the fast path refused a well-formed file without repeated keys"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, min_size=1, max_size=6), st.integers(0, 10**6),
       st.sampled_from(['"dup": 1, "dup": 2', "NaN", "Infinity", "1e400", "-1e999", "]", "}", ",", '"', "\\", "0" * 5000,
                        "tru", "01", "\x00", "{}", "[]", "/", "\ud800"]))
def test_damaged_files_are_refused_or_agree(tree: dict[str, Any], where: int, insert: str) -> None:
    text = json.dumps(tree, indent=2)
    at = where % (len(text) + 1)
    assert_agrees(text[:at] + insert + text[at:])


def test_refusals_leave_errors_to_the_parser() -> None:
    for text in ['{"a": 1, "a": 2}', '{"a": NaN}', '{"a": 1e400}', '{"a": 1} x', "", "[]", '{"a": ' + "0" * 5000 + "}"]:
        parser = Parser(text)
        assert parse_fast(parser) is None, text
    deep = "{" + '"a": {' * MAX_DEPTH + "}" * (MAX_DEPTH + 1)
    assert parse_fast(Parser(deep)) is None
    assert isinstance(slow(deep), FormatError)
    assert math.isnan(json.loads('{"a": NaN}')["a"])  # what json.loads alone would have let through
