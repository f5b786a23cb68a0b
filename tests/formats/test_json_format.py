"""JsonFormat: parsing to flat keys, errors with positions, and rendering in the file's own style."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format, known_formats
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.json_format import MAX_DEPTH, JsonFormat
from tests.formats.pairs import diff_lines as changed_lines
from tests.helpers import shared_corpus

FMT = JsonFormat()
CORPUS = shared_corpus()


def parse(text: str | bytes) -> ParsedFile:
    return FMT.parse(text.encode() if isinstance(text, str) else text, path="x.json")


def rerender(parsed: ParsedFile, values: dict[str, Leaf] | None = None) -> bytes:
    """Render from the layout alone (no target), so the raw-bytes shortcut cannot hide anything."""
    return FMT.render(parsed.entries if values is None else values, source=parsed, target=None)


def error(data: bytes | str) -> FormatError:
    with pytest.raises(FormatError) as info:
        parse(data)
    return info.value


def flatten(value: Any, prefix: tuple[str, ...] = ()) -> dict[str, Leaf]:
    """Reference flattening (what parse must produce), written independently of the parser."""
    out: dict[str, Leaf] = {}
    if isinstance(value, dict):
        for key, child in value.items():
            out.update(flatten(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out.update(flatten(child, (*prefix, str(index))))
    else:
        out["/".join(s.replace("~", "~0").replace("/", "~1") for s in prefix)] = value
    return out


# --- registry -------------------------------------------------------------------------------


def test_registry_returns_the_json_format() -> None:
    assert "json" in known_formats()
    fmt = get_format("json")
    assert isinstance(fmt, JsonFormat)
    assert fmt is get_format("json")
    assert fmt.name == "json" and fmt.extensions == (".json",)


def test_registry_unknown_name_lists_known_ones() -> None:
    with pytest.raises(KeyError, match=r"known formats: .*json"):
        get_format("jsonn")


# --- parsing --------------------------------------------------------------------------------


def test_flat_keys_stay_as_they_are() -> None:
    assert parse('{"a.b": "x", "c": "y"}').entries == {"a.b": "x", "c": "y"}


def test_nested_objects_and_arrays_become_paths() -> None:
    parsed = parse('{"a": {"b": "x", "c": {"d": "y"}}, "steps": ["one", {"t": "two"}, [true]]}')
    assert list(parsed.entries.items()) == [
        ("a/b", "x"),
        ("a/c/d", "y"),
        ("steps/0", "one"),
        ("steps/1/t", "two"),
        ("steps/2/0", True),
    ]


def test_non_string_leaves_are_kept() -> None:
    parsed = parse('{"i": 3, "f": 1.5, "e": 1e3, "n": -0, "t": true, "F": false, "z": null}')
    assert parsed.entries == {"i": 3, "f": 1.5, "e": 1000.0, "n": 0, "t": True, "F": False, "z": None}
    assert type(parsed.entries["i"]) is int and type(parsed.entries["e"]) is float


def test_slash_and_tilde_in_object_keys_are_escaped() -> None:
    parsed = parse('{"a/b": {"c~d": "x"}, "++8Z/Wj": "y"}')
    assert parsed.entries == {"a~1b/c~0d": "x", "++8Z~1Wj": "y"}
    assert rerender(parsed) == b'{"a/b": {"c~d": "x"}, "++8Z/Wj": "y"}'


def test_empty_containers_have_no_entries_but_round_trip() -> None:
    text = '{\n  "a": {},\n  "b": [],\n  "c": "x",\n  "d": {\n    "e": [],\n    "f": 1\n  }\n}\n'
    parsed = parse(text)
    assert parsed.entries == {"c": "x", "d/f": 1}
    assert rerender(parsed) == text.encode()


def test_empty_top_level_object() -> None:
    parsed = parse("{\n\n}\n")
    assert parsed.entries == {}
    assert FMT.render({}, source=parsed, target=parsed) == b"{\n\n}\n"
    assert rerender(parsed, {"a": "x"}) == b'{\n  "a": "x"\n}\n'


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1,}',
        '{"a" 1}',
        '{"a": 1\n  "b": 2}',
        '{\n  "a": "x\n"}',
        '{"a": [1, 2}',
        '{"a": tru}',
        '{"a": "\\q"}',
        "{'a': 1}",
        '{"a": 01}',
    ],
)
def test_syntax_errors_have_the_same_position_as_json(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    err = error(text)
    assert (err.path, err.line, err.column) == ("x.json", expected.value.lineno, expected.value.colno)
    assert str(err).startswith(f"x.json:{err.line}:{err.column}: ")


def test_duplicate_key_is_reported_where_it_repeats() -> None:
    err = error('{\n  "a": {\n    "b": 1,\n    "b": 2\n  }\n}')
    assert (err.line, err.column) == (4, 5)
    assert "duplicate key 'b'" in err.detail


def test_same_key_in_different_objects_is_fine() -> None:
    assert parse('{"a": {"k": 1}, "b": {"k": 2}}').entries == {"a/k": 1, "b/k": 2}


@pytest.mark.parametrize("text", ['["a"]', '"a"', "3", "null", '\n  ["a"]'])
def test_top_level_must_be_an_object(text: str) -> None:
    err = error(text)
    assert "top level must be a JSON object" in err.detail
    assert err.line == (2 if text.startswith("\n") else 1)


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b'{"a": "caf\xe9"}', 1, 11),
        (b'{\n "\xc3\xa4": "\xff"}', 2, 8),
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", 1, 1),  # a second BOM is a character, not layout
    ],
)
def test_invalid_utf8_or_stray_bom(data: bytes, line: int, column: int) -> None:
    err = error(data)
    assert (err.line, err.column) == (line, column)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "expecting a value"),
        ("   \n", "expecting a value"),
        ('{"a": NaN}', "expecting a value"),
        ('{"a": -Infinity}', "expecting a value"),
        ('{"a": 1e999}', "number out of range"),
        ('{"a": ' + "9" * 5000 + "}", "too many digits"),
        ("{} {}", "extra data"),
        ('{"a": "x"}\n,', "extra data"),
        ('{"a": "\x01"}', "Invalid control character"),
    ],
)
def test_values_python_accepts_but_json_does_not(text: str, detail: str) -> None:
    assert detail in error(text).detail


def test_deep_nesting_is_a_format_error_not_a_crash() -> None:
    assert "nesting deeper" in error('{"a": ' + "[" * 100_000).detail
    ok = '{"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    assert parse(ok).entries == {}
    assert "nesting deeper" in error('{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}").detail


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_format_error(data: bytes) -> None:
    try:
        parse(data)
    except FormatError as e:
        assert e.path == "x.json" and e.detail


JSONISH = st.text(alphabet=st.sampled_from([*'{}[]":, \n\t01-.eEtrufalsn\\uäx/~', "\ud800"]), max_size=60)


def _reference_loads(text: str) -> dict[str, Leaf]:
    """json.loads with our extra rules: duplicate keys, NaN/Infinity and overflow rejected."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate")
        return dict(items)

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    def finite(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ValueError(text)
        return value

    value = json.loads(text, object_pairs_hook=pairs, parse_constant=no_constant, parse_float=finite)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return flatten(value)


@given(st.one_of(JSONISH, st.builds(lambda s: "{" + s, JSONISH), st.builds(lambda s: '{"a": ' + s, JSONISH)))
def test_parser_agrees_with_json_loads(text: str) -> None:
    try:
        expected: dict[str, Leaf] | None = _reference_loads(text)
    except (ValueError, RecursionError):
        expected = None
    try:
        got: dict[str, Leaf] | None = FMT.parse(text.encode("utf-8", "surrogatepass"), path="x").entries
    except FormatError:
        got = None
    if "\ud800" in text and expected is not None and got is None:
        return  # a raw lone surrogate is not valid UTF-8: only the bytes-level check rejects it
    assert got == expected


# --- layout and rendering -------------------------------------------------------------------

LEAVES = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
KEYS = st.text(alphabet=st.sampled_from(list('ab/~.0 é\n"\\')), max_size=4)
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)),
    max_leaves=12,
)
OBJECTS = st.dictionaries(KEYS, TREES, max_size=5)


@given(OBJECTS, st.sampled_from([2, 4, "\t", None]), st.booleans(), st.booleans())
def test_json_dumps_output_round_trips_and_one_change_is_one_line(
    obj: dict[str, Any], indent: int | str | None, ensure_ascii: bool, crlf: bool
) -> None:
    text = json.dumps(obj, indent=indent, ensure_ascii=ensure_ascii) + "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode()
    parsed = parse(data)
    assert parsed.entries == flatten(obj)
    assert FMT.render(parsed.entries, source=parsed, target=parsed) == data
    assert rerender(parsed) == data
    strings = [k for k, v in parsed.entries.items() if isinstance(v, str)]
    if strings:
        values = dict(parsed.entries)
        values[strings[len(strings) // 2]] = "changed ✓ \n value"
        out = FMT.render(values, source=parsed, target=parsed)
        assert len(changed_lines(data, out)) == 2  # one line removed, one added
        assert parse(out).entries == values


@given(OBJECTS, OBJECTS)
def test_render_then_parse_gives_exactly_the_values(source_obj: dict[str, Any], values_obj: dict[str, Any]) -> None:
    source = parse(json.dumps(source_obj, indent=2))
    values = flatten(values_obj)
    assert parse(rerender(source, values)).entries == values


def test_layout_details_are_detected_and_kept() -> None:
    data = '\ufeff{\r\n\t"a": {\r\n\t\t"b": "x"\r\n\t}\r\n}'.encode()
    parsed = parse(data)
    assert parsed.entries == {"a/b": "x"}
    assert rerender(parsed) == data
    assert rerender(parsed, {"a/b": "y", "c": "z"}) == (
        '\ufeff{\r\n\t"a": {\r\n\t\t"b": "y"\r\n\t},\r\n\t"c": "z"\r\n}'.encode()
    )


def test_minified_file_stays_minified() -> None:
    data = b'{"PRXpBm":{"context":"dialog","string":"Abbrechen"},"x":"y"}'
    parsed = parse(data)
    assert rerender(parsed, {**parsed.entries, "x": "z"}) == data.replace(b'"y"', b'"z"')


def test_one_line_file_with_spaces_keeps_them() -> None:
    parsed = parse('{"a": "x", "b": [1, 2]}\n')
    assert rerender(parsed, {**parsed.entries, "a": "y"}) == b'{"a": "y", "b": [1, 2]}\n'


def test_zero_indent_and_custom_indent() -> None:
    for text in ('{\n"a": "x"\n}', '{\n   "a": {\n      "b": 1\n   }\n}\n'):
        assert rerender(parse(text)) == text.encode()


def test_ensure_ascii_follows_the_file() -> None:
    escaped = parse('{"a": "caf\\u00e9", "b": "x"}')
    assert rerender(escaped, {"a": "café", "b": "ü"}) == b'{"a": "caf\\u00e9", "b": "\\u00fc"}'
    raw = parse('{"a": "café", "b": "x"}')
    assert rerender(raw, {"a": "café", "b": "ü"}) == '{"a": "café", "b": "ü"}'.encode()
    ascii_only = parse('{"a": "caf\\\\u00e9"}')  # an escaped backslash, not a \u escape
    assert rerender(ascii_only, {"a": "ü"}) == '{"a": "ü"}'.encode()


def test_lone_surrogate_escape_survives_rendering() -> None:
    parsed = parse('{"a": "\\ud800", "b": "é"}')
    assert parsed.entries["a"] == "\ud800"
    out = rerender(parsed)
    assert out == '{"a": "\\ud800", "b": "é"}'.encode()
    assert parse(out).entries == parsed.entries


# --- render: order, structure, raw bytes -----------------------------------------------------


def test_order_source_then_target_only_then_new() -> None:
    source = parse('{"a": "1", "n": {"x": "1", "y": "2"}, "b": "2"}')
    target = parse('{"t1": "T", "n": {"y": "b", "old": "o", "x": "a"}, "b": "B", "a": "A"}')
    values: dict[str, Leaf] = {
        "new": "N",
        "n/new": "NN",
        "t1": "T",
        "n/old": "o",
        "b": "B",
        "a": "A",
        "n/x": "a",
        "n/y": "b",
    }
    out = json.loads(FMT.render(values, source=source, target=target))
    assert list(out) == ["a", "n", "b", "t1", "new"]
    assert list(out["n"]) == ["x", "y", "old", "new"]


def test_flat_file_stays_flat_and_new_nested_key_nests() -> None:
    source = parse('{\n  "Page.title": "Hi",\n  "Page.body": "Text"\n}\n')
    out = FMT.render({"Page.title": "Hallo", "Page.body": "Text", "x/y": "z"}, source=source, target=None)
    assert out == b'{\n  "Page.title": "Hallo",\n  "Page.body": "Text",\n  "x": {\n    "y": "z"\n  }\n}\n'


def test_arrays_follow_the_source_skeleton() -> None:
    source = parse('{"steps": ["a", "b"], "obj": {"0": "a", "1": "b"}}')
    out = FMT.render({"steps/1": "B", "steps/0": "A", "obj/0": "A", "obj/1": "B"}, source=source, target=None)
    assert json.loads(out) == {"steps": ["A", "B"], "obj": {"0": "A", "1": "B"}}


def test_array_with_a_missing_index_becomes_an_object_so_keys_survive() -> None:
    source = parse('{"steps": ["a", "b", "c"]}')
    out = FMT.render({"steps/0": "A", "steps/2": "C"}, source=source, target=None)
    assert json.loads(out) == {"steps": {"0": "A", "2": "C"}}
    assert parse(out).entries == {"steps/0": "A", "steps/2": "C"}


def test_target_structure_wins_over_source() -> None:
    source = parse('{"list": ["a"]}')
    target = parse('{"list": {"0": "x"}}')
    assert json.loads(FMT.render({"list/0": "y"}, source=source, target=target)) == {"list": {"0": "y"}}


def test_conflicting_keys_are_rejected() -> None:
    source = parse('{"a": "x"}')
    with pytest.raises(ValueError, match="cannot"):
        FMT.render({"a": "x", "a/b": "y"}, source=source, target=None)
    with pytest.raises(ValueError, match="cannot"):
        FMT.render({"a/b": "y", "a": "x"}, source=source, target=None)


def test_unchanged_target_returns_its_raw_bytes() -> None:
    source = parse('{"a": "x", "b": "y"}')
    raw = b'{ "b" :  "Y",\n"a":"X" }'  # a layout json.dumps cannot reproduce
    target = parse(raw)
    assert FMT.render({"b": "Y", "a": "X"}, source=source, target=target) == raw  # target order
    assert FMT.render({"a": "X", "b": "Y"}, source=source, target=target) != raw  # source order: reordered
    assert FMT.render({"a": "X", "b": "Z"}, source=source, target=target) != raw


def test_raw_bytes_when_target_already_in_source_order() -> None:
    source = parse('{"a": "x", "b": "y"}')
    raw = b'{"a":"X",  "b":"Y"}'
    assert FMT.render({"b": "Y", "a": "X"}, source=source, target=parse(raw)) == raw


def test_leaf_types_are_compared_strictly() -> None:
    target = parse('{"a": 1}')
    assert FMT.render({"a": True}, source=target, target=target) == b'{"a": true}'
    assert FMT.render({"a": 1.0}, source=target, target=target) == b'{"a": 1.0}'


def test_new_target_takes_the_source_layout() -> None:
    source = parse('{\n    "a": {\n        "b": "x"\n    },\n    "e": {}\n}')
    assert FMT.render({"a/b": "y"}, source=source, target=None) == (
        b'{\n    "a": {\n        "b": "y"\n    },\n    "e": {}\n}'
    )


def test_render_without_json_layout_uses_defaults() -> None:
    source = ParsedFile(entries={"a": "x"}, raw=b"", layout=None)
    assert FMT.render({"a": "y", "b/c": 1}, source=source, target=None) == (
        b'{\n  "a": "y",\n  "b": {\n    "c": 1\n  }\n}\n'
    )


# --- real files -----------------------------------------------------------------------------

CORPUS_FILES = sorted(
    p for d in ("json-flat", "json-nested") if (CORPUS / d).is_dir() for p in (CORPUS / d).rglob("*.json")
)
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus ({CORPUS}) is not present")


def _corpus_id(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


@needs_corpus
def test_corpus_is_found() -> None:
    assert len(CORPUS_FILES) >= 10


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=_corpus_id)
def test_corpus_round_trip(path: Path) -> None:
    data = path.read_bytes()
    parsed = FMT.parse(data, path=str(path))
    assert FMT.render(parsed.entries, source=parsed, target=parsed) == data
    assert parse(rerender(parsed)).entries == parsed.entries


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=_corpus_id)
def test_corpus_one_value_change(path: Path) -> None:
    """Changing one value changes one line, plus lines whose non-ASCII spelling differs.

    A file mixing raw non-ASCII characters with ``\\uXXXX`` escapes (hoppscotch en.json) cannot
    be reproduced by one ``ensure_ascii`` setting; every other file must change exactly one line.
    """
    data = path.read_bytes()
    parsed = FMT.parse(data, path=str(path))
    strings = [k for k, v in parsed.entries.items() if isinstance(v, str)]
    if not strings:
        pytest.skip("no string value to change")
    values = dict(parsed.entries)
    values[strings[len(strings) // 2]] = "locsync changed this"
    out = FMT.render(values, source=parsed, target=parsed)
    before, after = data.decode().split("\n"), out.decode().split("\n")
    assert len(before) == len(after), changed_lines(data, out)[:10]
    pairs = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert sum("locsync changed this" in new for _, new in pairs) == 1
    for old, new in pairs:
        if "locsync changed this" not in new:  # the same member, spelled with or without \\u escapes
            assert json.loads("{" + old.rstrip(",") + "}") == json.loads("{" + new.rstrip(",") + "}")
            assert "\\u" in old + new
