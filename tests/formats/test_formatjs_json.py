"""FormatJsFormat: the shared contract, both file shapes, and the ICU MessageFormat checker."""

from __future__ import annotations

import difflib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.formatjs_json import FormatJsFormat, icu_problems
from tests.formats.contract import CORPUS, FormatContract

FMT = FormatJsFormat()


class TestFormatJsContract(FormatContract):
    format_name = "formatjs"
    corpus_dirs = ("json-flat", "other-docusaurus-json")
    corpus_suffixes = (".json",)
    sample = (
        b'{\n  "a": {\n    "defaultMessage": "Hi {name}",\n    "description": "greeting"\n  },\n'
        b'  "b": "You have {n, plural, one {# item} other {# items}}"\n}\n'
    )


def parse(text: str, path: str = "x.json") -> ParsedFile:
    return FMT.parse(text.encode(), path=path)


def render(values: dict[str, Leaf], source: ParsedFile, target: ParsedFile | None = None) -> str:
    return FMT.render(values, source=source, target=target).decode()


def error(text: str) -> FormatError:
    with pytest.raises(FormatError) as info:
        parse(text, path="bad.json")
    assert info.value.path == "bad.json"
    return info.value


EXTRACTED = """{
  "cart.title": {
    "defaultMessage": "Your cart",
    "description": "Heading of the cart page"
  },
  "cart.count": {
    "description": {
      "note": "count of items",
      "maxLength": 40
    },
    "defaultMessage": "{n, plural, one {# item} other {# items}}"
  }
}
"""


# --- ICU MessageFormat ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "",
        "Plain text with a lone ' apostrophe: it's fine, and # outside plurals",
        "Hello {name}!",
        "{ name }",
        "{0} and {1}",
        "{n, plural, one {# item} other {# items}}",
        "{n, plural, offset:1 =0 {nobody} =1 {{name}} one {{name} and # other} other {{name} and # others}}",
        "{n,plural,one{}other{}}",
        "{g, select, female {She} male {He} other {They}}",
        "{g, select, female {{n, plural, one {her # cat} other {her # cats}}} other {their cats}}",
        "{n, selectordinal, one {#st} two {#nd} few {#rd} other {#th}}",
        "{n, number}",
        "{n, number, ::currency/EUR}",
        "{d, date, short} {t, time, ::hmm}",
        "{n, number, '{'weird'}'}",
        "It''s '{quoted}' text",
        "{n, plural, one {'#' is literal} other {#}}",
        "Hi <b>{name}</b>, see <a>the docs</a>",
    ],
)
def test_valid_messages(message: str) -> None:
    assert icu_problems(message) == []


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("Hello {name", "'{' is never closed (at character 7)"),
        ("Hello name}", "unmatched '}' (at character 11)"),
        ("{}", "expected an argument name"),
        ("{user.name}", "expected ',' or '}' after the argument name"),
        ("{n, plural, one {# item}}", "plural argument without an 'other' branch (at character 1)"),
        ("{g, select, male {He}}", "select argument without an 'other' branch"),
        ("{n, selectordinal, one {#st}}", "selectordinal argument without an 'other' branch"),
        ("{n, plural, one {a} one {b} other {c}}", "duplicate selector 'one'"),
        ("{n, plural, ones {a} other {b}}", "'ones' is not a plural category"),
        ("{n, plural, one {a} other {b}", "'{' is never closed"),
        ("{n, plural, one {a} other}", "expected '{' after the selector 'other'"),
        ("{n, plural}", "expected ',' after 'plural'"),
        ("{n, plural,}", "plural argument without branches"),
        ("{n, plural, offset:x other {a}}", "expected an integer after 'offset:'"),
        ("{n, currency}", "unknown argument type 'currency'"),
        ("{n, }", "expected an argument type"),
        ("{n, number, }", "expected an argument style after ','"),
        ("{n, number, 'x}", "unclosed quote in the argument style"),
        ("l'{count} jours", "this apostrophe quotes the rest of the message"),
        ("{a,select,other{" * 40 + "x" + "}}" * 40, "arguments nested deeper than 32 levels"),
    ],
)
def test_invalid_messages(message: str, problem: str) -> None:
    problems = icu_problems(message)
    assert problems and problem in problems[0], problems


def test_every_problem_is_reported() -> None:
    assert icu_problems("a } {n, plural, one {x}} b }") == [
        "unmatched '}' (at character 3)",
        "plural argument without an 'other' branch (at character 5)",
        "unmatched '}' (at character 28)",
    ]


@settings(max_examples=300)
@given(st.text(alphabet="{}',#= abnprlueotscd:0123456789", max_size=60))
def test_checker_never_raises(message: str) -> None:
    assert isinstance(icu_problems(message), list)


# --- shapes ---------------------------------------------------------------------------------


def test_registry() -> None:
    fmt = get_format("formatjs")
    assert isinstance(fmt, FormatJsFormat)
    assert fmt.name == "formatjs" and fmt.extensions == (".json",)


def test_compiled_file_entries_are_the_messages() -> None:
    parsed = parse('{"a.b": "Hi {name}", "x/y": "Slash"}')
    assert parsed.entries == {"a.b": "Hi {name}", "x~1y": "Slash"}
    assert render({"a.b": "Hallo {name}", "x~1y": "Schräg"}, parsed, parsed) == (
        '{"a.b": "Hallo {name}", "x/y": "Schräg"}'
    )


def test_extracted_file_entries_are_default_messages_only() -> None:
    assert parse(EXTRACTED).entries == {
        "cart.title": "Your cart",
        "cart.count": "{n, plural, one {# item} other {# items}}",
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"k": {"message": "M", "description": "D"}}', "M"),  # Crowdin, Docusaurus
        ('{"k": {"context": "C", "string": "S"}}', "S"),  # Transifex, saleor
        ('{"k": {"translation": "T", "notes": "N"}}', "T"),  # Lokalise
        ('{"k": {"message": "M", "defaultMessage": "D"}}', "D"),  # defaultMessage first
    ],
)
def test_other_extract_formatters(text: str, value: str) -> None:
    parsed = parse(text)
    assert parsed.entries == {"k": value}
    assert render({"k": "new"}, parsed, parsed) == text.replace(f'"{value}"', '"new"')


def test_translating_an_extracted_file_changes_only_the_message_line() -> None:
    parsed = parse(EXTRACTED)
    after = render(dict(parsed.entries) | {"cart.title": "Ihr Warenkorb"}, parsed, parsed)
    diff = difflib.unified_diff(EXTRACTED.split("\n"), after.split("\n"), lineterm="", n=0)
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        '-    "defaultMessage": "Your cart",',
        '+    "defaultMessage": "Ihr Warenkorb",',
    ]


def test_a_new_target_keeps_the_source_shape_and_descriptions() -> None:
    source = parse(EXTRACTED)
    out = render({"cart.title": "Ihr Warenkorb", "cart.count": "{n, plural, other {# Artikel}}"}, source)
    assert json.loads(out) == {
        "cart.title": {"defaultMessage": "Ihr Warenkorb", "description": "Heading of the cart page"},
        "cart.count": {
            "description": {"note": "count of items", "maxLength": 40},
            "defaultMessage": "{n, plural, other {# Artikel}}",
        },
    }
    assert out.splitlines()[1:4] == [
        '  "cart.title": {',
        '    "defaultMessage": "Ihr Warenkorb",',
        '    "description": "Heading of the cart page"',
    ]


def test_a_compiled_target_stays_flat_and_gets_new_ids_in_source_order() -> None:
    source = parse(EXTRACTED)
    target = parse('{\n  "cart.count": "{n, plural, other {# Artikel}}"\n}\n')
    out = render(dict(target.entries) | {"cart.title": "Ihr Warenkorb"}, source, target)
    assert out == '{\n  "cart.title": "Ihr Warenkorb",\n  "cart.count": "{n, plural, other {# Artikel}}"\n}\n'


def test_target_fields_win_over_source_fields() -> None:
    source = parse('{"k": {"defaultMessage": "Hi", "description": "new note"}}')
    target = parse('{"k": {"defaultMessage": "Hallo", "description": "old note"}}')
    assert render({"k": "Servus"}, source, target) == '{"k": {"defaultMessage": "Servus", "description": "old note"}}'


def test_an_unchanged_target_is_returned_as_is() -> None:
    source = parse(EXTRACTED)
    text = '{"cart.count":"{n, plural, other {# Artikel}}",  "cart.title":"Warenkorb"}'
    target = parse(text)
    assert render(dict(target.entries), source, target) == text


def test_ids_with_several_segments_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="one key segment"):
        FMT.render({"a/b": "x"}, source=parse("{}"), target=None)


# --- errors ---------------------------------------------------------------------------------


def test_a_broken_message_is_reported_where_it_starts() -> None:
    e = error('{\n  "ok": "fine",\n  "bad":   "{n, plural, one {#}}"\n}\n')
    assert (e.line, e.column) == (3, 12)
    assert e.detail == "message 'bad': plural argument without an 'other' branch (at character 1)"


def test_a_broken_extracted_message_points_at_the_message_field() -> None:
    e = error('{\n  "k": {\n    "description": "d",\n    "defaultMessage": "{oops"\n  }\n}')
    assert (e.line, e.column) == (4, 23)


@pytest.mark.parametrize(
    ("text", "line", "column", "detail"),
    [
        ('{\n  "k": 3\n}', 2, 8, "message 'k': a message must be a string"),
        ('{\n  "k": null\n}', 2, 8, "message 'k': a message must be a string"),
        ('{\n  "k": {"description": "no message"}\n}', 2, 8, "expected a string, or an object with one of"),
        ('{\n  "k": {}\n}', 2, 8, "expected a string, or an object"),
        ('{\n  "k": ["a"]\n}', 2, 8, "expected a string, or an object"),
        ('{\n  "a/b": {"c": "x"}\n}', 2, 10, "message 'a/b'"),
        ('{"k": "v",}', 1, 11, "expecting a property name"),  # from JsonFormat
    ],
)
def test_files_that_are_not_formatjs(text: str, line: int, column: int, detail: str) -> None:
    e = error(text)
    assert (e.line, e.column) == (line, column)
    assert detail in e.detail


def test_positions_count_characters_after_a_bom() -> None:
    with pytest.raises(FormatError) as info:
        FMT.parse('\ufeff{"é": "{x"}'.encode(), path="bom.json")
    assert (info.value.line, info.value.column) == (1, 7)


# --- corpus ---------------------------------------------------------------------------------


def corpus_file(relative: str) -> bytes:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in the shared corpus")
    return path.read_bytes()


def test_saleor_default_messages_are_extracted_string_context_pairs() -> None:
    data = corpus_file("json-flat/saleor-dashboard/defaultMessages.json")
    parsed = FMT.parse(data, path="defaultMessages.json")
    assert parsed.entries["++8ZWj"] == "Requested"
    assert "Transaction event status - requested" not in parsed.entries.values()
    assert parsed.entries["+B25o~1"] == "Mark Order as Paid"  # id "+B25o/"
    assert len(parsed.entries) == 4549


def test_docusaurus_code_json() -> None:
    data = corpus_file("other-docusaurus-json/yew/i18n/zh-Hans/code.json")
    parsed = FMT.parse(data, path="code.json")
    assert parsed.entries["home.shared_state_title"] == "随处声明共享状态"
    assert "The homepage input placeholder" not in parsed.entries.values()


def test_a_corrupted_corpus_message_is_located() -> None:
    data = corpus_file("json-flat/sharetribe-web-template/en.json")
    parsed = FMT.parse(data, path="en.json")
    key = next(k for k, v in parsed.entries.items() if isinstance(v, str) and ", plural," in v)
    values = dict(parsed.entries)
    assert isinstance(values[key], str)
    values[key] = str(values[key]).replace("other {", "others {", 1)
    broken = FMT.render(values, source=parsed, target=parsed)
    line = next(n for n, text in enumerate(broken.decode().split("\n"), 1) if text.startswith(f'  "{key}"'))
    with pytest.raises(FormatError) as info:
        FMT.parse(broken, path="en.json")
    assert info.value.line == line
    assert "'others' is not a plural category" in info.value.detail
