"""FlutterArbFormat: the contract, what counts as an entry, metadata policy, and spliced rendering."""

from __future__ import annotations

import json

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats._json import SpanParser
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.flutter_arb import FlutterArbFormat
from tests.formats.contract import FormatContract
from tests.formats.pairs import diff_lines as diff
from tests.formats.pairs import parse_corpus

FMT = FlutterArbFormat()

SOURCE = """{
    "@@locale": "en",
    "@@last_modified": "2024-01-01",
    "hello": "Hello {name}",
    "@hello": {
        "description": "Greeting",
        "placeholders": {
            "name": {"type": "String"}
        }
    },
    "count": "{n, plural, =0{none} =1{one item} other{{n} items}}",
    "@count": {
        "placeholders": {}
    },
    "bye": "Bye"
}
"""


class TestFlutterArbContract(FormatContract):
    format_name = "arb"
    corpus_dirs = ("flutter-arb",)
    corpus_suffixes = (".arb",)
    sample = SOURCE.encode()


def parse(data: bytes | str) -> ParsedFile:
    return FMT.parse(data.encode() if isinstance(data, str) else data, path="intl_de.arb")


def render(values: dict[str, Leaf], source: ParsedFile, target: ParsedFile | None, locale: str | None = "de") -> str:
    return FMT.render(values, source=source, target=target, locale=locale).decode()


def corpus(name: str) -> ParsedFile:
    return parse_corpus(FMT, f"flutter-arb/{name}")


# --- parsing --------------------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_format("arb"), FlutterArbFormat)


def test_messages_are_entries_metadata_and_globals_are_not() -> None:
    parsed = parse(SOURCE)
    assert parsed.entries == {
        "hello": "Hello {name}",
        "count": "{n, plural, =0{none} =1{one item} other{{n} items}}",
        "bye": "Bye",
    }


def test_slash_in_a_message_key_is_escaped() -> None:
    assert parse('{"a/b": "x"}').entries == {"a~1b": "x"}


def test_repeated_key_is_accepted_and_the_last_value_wins() -> None:
    # Dart's jsonDecode does the same; flutter-gallery's template repeats a message
    parsed = parse('{\n  "a": "one",\n  "b": "B",\n  "a": "two"\n}')
    assert parsed.entries == {"a": "two", "b": "B"}
    assert render({"a": "three", "b": "B"}, parsed, parsed) == '{\n  "a": "three",\n  "b": "B",\n  "a": "three"\n}'
    assert render({"b": "B"}, parsed, parsed) == '{\n  "b": "B"\n}'


def test_message_that_is_an_object_is_an_error() -> None:
    with pytest.raises(FormatError) as info:
        parse('{\n  "a": {"x": 1}\n}')
    assert (info.value.line, info.value.column) == (2, 8)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "a": "x",\n  "a" "y"\n}', 3, 7),
        ('{\n  "a": "x"\n', 3, 1),
        ('["a"]', 1, 1),
        ('{"a": "x"} {}', 1, 12),
        ('{"a": NaN}', 1, 7),
    ],
)
def test_syntax_errors_have_positions(text: str, line: int, column: int) -> None:
    with pytest.raises(FormatError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_invalid_utf8() -> None:
    with pytest.raises(FormatError) as info:
        parse(b'{\n"a": "\xff"}')
    assert (info.value.line, info.value.column) == (2, 7)


def test_span_parser_records_member_key_and_value_positions() -> None:
    text = '{ "a" : [1, {"b": "c"}] }'
    parser = SpanParser(text)
    assert parser.document() == (0, len(text))
    span = parser.spans[("a",)]
    assert (text[span.key : span.key + 3], text[span.start : span.end]) == ('"a"', '[1, {"b": "c"}]')
    inner = parser.spans[("a", "1", "b")]
    assert text[inner.key : inner.end] == '"b": "c"'


# --- rendering into an existing target ------------------------------------------------------


def test_unchanged_values_give_the_target_bytes() -> None:
    parsed = parse(SOURCE)
    assert FMT.render(dict(parsed.entries), source=parsed, target=parsed) == SOURCE.encode()


def test_changed_message_changes_only_its_string() -> None:
    parsed = parse(SOURCE)
    values = dict(parsed.entries)
    values["hello"] = 'Hallo {name} "\u00e9"'
    assert diff(SOURCE, render(values, parsed, parsed)) == [
        '-    "hello": "Hello {name}",',
        '+    "hello": "Hallo {name} \\"\u00e9\\"",',
    ]


def test_escaped_file_keeps_escaping_non_ascii() -> None:
    parsed = parse('{\n  "a": "caf\\u00e9",\n  "b": "x"\n}')
    assert render({"a": "café", "b": "naïve"}, parsed, parsed) == '{\n  "a": "caf\\u00e9",\n  "b": "na\\u00efve"\n}'


def test_deleted_message_takes_its_metadata() -> None:
    parsed = parse(SOURCE)
    out = render({"count": parsed.entries["count"], "bye": "Bye"}, parsed, parsed)
    assert json.loads(out) == {
        "@@locale": "en",
        "@@last_modified": "2024-01-01",
        "count": parsed.entries["count"],
        "@count": {"placeholders": {}},
        "bye": "Bye",
    }
    assert render({}, parsed, parsed).startswith('{\n    "@@locale": "en",\n    "@@last_modified": "2024-01-01"\n}')


def test_deleting_the_first_members() -> None:
    parsed = parse('{\n  "a": "A",\n  "@a": {},\n  "b": "B"\n}\n')
    assert render({"b": "B"}, parsed, parsed) == '{\n  "b": "B"\n}\n'
    assert render({}, parsed, parsed, locale=None) == "{}\n"
    assert render({}, parsed, parsed) == '{\n  "@@locale": "de"\n}\n'  # rebuilt files name their locale


def test_new_message_goes_after_its_source_predecessor_with_metadata_when_the_target_has_some() -> None:
    source = parse(SOURCE)
    target = parse(
        '{\n    "@@locale": "de",\n    "hello": "Hallo {name}",\n    "@hello": {\n        "description": "Greeting"\n    },\n    "bye": "Tschüss"\n}'
    )
    out = render({"hello": "Hallo {name}", "count": "{n, plural, other{{n}}}", "bye": "Tschüss"}, source, target)
    assert out == (
        '{\n    "@@locale": "de",\n    "hello": "Hallo {name}",\n    "@hello": {\n        "description": "Greeting"\n    },\n'
        '    "count": "{n, plural, other{{n}}}",\n    "@count": {\n        "placeholders": {}\n    },\n'
        '    "bye": "Tschüss"\n}'
    )


def test_new_message_without_metadata_when_the_target_has_none() -> None:
    source = parse(SOURCE)
    target = parse('{\n  "bye": "Tschüss",\n  "hello": "Hallo"\n}\n')
    out = render({"hello": "Hallo", "count": "{n, plural, other{x}}", "bye": "Tschüss"}, source, target)
    assert out == '{\n  "bye": "Tschüss",\n  "hello": "Hallo",\n  "count": "{n, plural, other{x}}"\n}\n'


def test_new_first_message_goes_after_the_globals() -> None:
    source = parse('{"@@locale": "en", "a": "A", "b": "B"}')
    target = parse('{\n  "@@locale": "de",\n  "b": "Be"\n}')
    assert render({"a": "Ah", "b": "Be"}, source, target) == '{\n  "@@locale": "de",\n  "a": "Ah",\n  "b": "Be"\n}'


def test_replacing_every_message() -> None:
    source = parse('{"n": "N"}')
    with_globals = parse('{\n  "@@locale": "de",\n  "old": "O"\n}')
    assert render({"n": "Neu"}, source, with_globals) == '{\n  "@@locale": "de",\n  "n": "Neu"\n}'
    without = parse('{\n  "old": "O"\n}\n')
    assert render({"n": "Neu"}, source, without) == '{\n  "@@locale": "de",\n  "n": "Neu"\n}\n'


def test_single_line_target() -> None:
    source = parse('{"a": "A", "b": "B"}')
    target = parse('{"a": "Ah"}')
    assert render({"a": "Ah", "b": "Be"}, source, target) == '{"a": "Ah", "b": "Be"}'


# --- a new target ---------------------------------------------------------------------------


def test_new_target_has_the_locale_the_messages_and_no_metadata() -> None:
    source = parse(SOURCE)
    values: dict[str, Leaf] = {"hello": "Hallo {name}", "count": "{n, plural, other{{n} Dinge}}", "bye": "Tschüss"}
    assert render(values, source, None) == (
        '{\n    "@@locale": "de",\n    "hello": "Hallo {name}",\n'
        '    "count": "{n, plural, other{{n} Dinge}}",\n    "bye": "Tschüss"\n}\n'
    )


def test_new_target_follows_the_source_indentation_and_final_newline() -> None:
    source = parse('{\n  "a": "A"\n}')
    assert render({"a": "Ah"}, source, None, locale=None) == '{\n  "a": "Ah"\n}'
    assert render({}, source, None, locale=None) == "{}"


def test_non_string_scalars_pass_through() -> None:
    parsed = parse('{"a": "x", "n": 3}')
    assert parsed.entries == {"a": "x", "n": 3}
    assert render({"a": "x", "n": 4}, parsed, parsed) == '{"a": "x", "n": 4}'


# --- real source/target pairs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "carries_metadata"),
    [("fluffychat", True), ("flutter-gallery", False)],
)
def test_corpus_pair_keys_removed_then_restored(project: str, carries_metadata: bool) -> None:
    source, target = corpus(f"{project}/intl_en.arb"), corpus(f"{project}/intl_de.arb")
    keys = list(target.entries)
    partial = {k: v for k, v in target.entries.items() if k not in (keys[0], keys[5], keys[-1])}
    smaller = FMT.parse(FMT.render(partial, source=source, target=target), path="partial")
    assert smaller.entries == partial
    restored = FMT.render(dict(target.entries), source=source, target=smaller, locale="de").decode()
    assert FMT.parse(restored.encode(), path="restored").entries == target.entries
    assert (f'"@{keys[5]}"' in restored) is carries_metadata
    assert len(diff(target.raw.decode(), restored)) < 40  # only the re-added members moved


@pytest.mark.parametrize("project", ["fluffychat", "flutter-gallery"])
def test_corpus_new_target_from_the_template(project: str) -> None:
    source, target = corpus(f"{project}/intl_en.arb"), corpus(f"{project}/intl_ar.arb")
    out = FMT.render(dict(target.entries), source=source, target=None, locale="ar")
    parsed = FMT.parse(out, path="new")
    assert parsed.entries == target.entries
    tree = json.loads(out)
    assert next(iter(tree)) == "@@locale"
    assert tree["@@locale"] == "ar"
    assert not any(key.startswith("@") and not key.startswith("@@") for key in tree)


def test_corpus_translation_changes_one_line() -> None:
    source, target = corpus("fluffychat/intl_en.arb"), corpus("fluffychat/intl_de.arb")
    values = dict(target.entries)
    values["accept"] = "Akzeptieren"
    out = FMT.render(values, source=source, target=target, locale="de").decode()
    assert diff(target.raw.decode(), out) == ['-    "accept": "Annehmen",', '+    "accept": "Akzeptieren",']
