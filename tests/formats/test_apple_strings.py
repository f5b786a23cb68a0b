"""AppleStringsFormat: the contract, parsing rules, encodings, errors, and span-spliced rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.apple_strings import AppleStringsFormat
from daemon.formats.base import Leaf, ParsedFile
from tests.formats.contract import FormatContract
from tests.formats.pairs import diff_lines as diff
from tests.formats.pairs import parse_corpus
from tests.helpers import shared_corpus

FMT = AppleStringsFormat()
CORPUS = shared_corpus() / "apple-strings"


class TestAppleStringsContract(FormatContract):
    format_name = "apple-strings"
    corpus_dirs = ("apple-strings",)
    corpus_suffixes = (".strings",)
    sample = (
        b"/* Greeting shown on launch */\n"
        b'"hello" = "Hello";\n'
        b"\n"
        b"// Buttons\n"
        b'"button.ok" = "OK";\n'
        b'"quote" = "Say \\"hi\\"\\n";\n'
    )


def parse(data: bytes | str, locale: str | None = None) -> ParsedFile:
    return FMT.parse(data.encode() if isinstance(data, str) else data, path="Localizable.strings", locale=locale)


def render(values: dict[str, Leaf], source: ParsedFile, target: ParsedFile | None) -> str:
    out = FMT.render(values, source=source, target=target)
    return out.decode("utf-8")


def error(data: bytes | str) -> FormatError:
    with pytest.raises(FormatError) as info:
        parse(data)
    assert info.value.path == "Localizable.strings"
    return info.value


def corpus(name: str) -> ParsedFile:
    return parse_corpus(FMT, f"apple-strings/{name}")


# --- registry and parsing -------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_format("apple-strings"), AppleStringsFormat)
    assert AppleStringsFormat.extensions == (".strings",)


def test_parses_keys_values_and_comments_in_file_order() -> None:
    parsed = parse('/* header */\n// note\n"b" = "B"; // trailing\n"a"="A";\n')
    assert parsed.entries == {"b": "B", "a": "A"}
    assert list(parsed.entries) == ["b", "a"]


def test_escapes_are_decoded() -> None:
    parsed = parse(r'"k" = "q\" b\\ n\n t\t r\r u\U00e9 \u20AC pair\UD83D\UDE00 oct\101 other\%";')
    assert parsed.entries["k"] == 'q" b\\ n\n t\t r\r u\u00e9 \u20ac pair\U0001f600 octA other%'


def test_unquoted_keys_and_values_single_quotes_and_shorthand() -> None:
    parsed = parse("NSCameraUsageDescription = \"Camera\";\nplain = word;\n'single' = 'it\\'s';\n\"same\";\n")
    assert parsed.entries == {"NSCameraUsageDescription": "Camera", "plain": "word", "single": "it's", "same": "same"}


def test_raw_newlines_and_control_characters_inside_values() -> None:
    parsed = parse('"k" = "line one\nline two \x18";')
    assert parsed.entries["k"] == "line one\nline two \x18"


def test_slash_in_a_key_is_escaped_not_nested() -> None:
    parsed = parse('"a/b~c" = "x";')
    assert parsed.entries == {"a~1b~0c": "x"}
    assert render({"a~1b~0c": "y"}, parsed, parsed) == '"a/b~c" = "y";'


def test_repeated_key_takes_its_last_value_and_changes_go_there() -> None:
    parsed = parse('"k" = "first";\n"k" = "second";\n')
    assert parsed.entries == {"k": "second"}
    assert render({"k": "third"}, parsed, parsed) == '"k" = "first";\n"k" = "third";\n'
    assert render({}, parsed, parsed) == "\n"  # both go; the final line break stays


def test_empty_file_and_comment_only_file_have_no_entries() -> None:
    assert parse(b"").entries == {}
    assert parse("/* nothing yet */\n").entries == {}


# --- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_round_trips_and_is_written_back_as_utf16(codec: str) -> None:
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    data = bom + '/* c */\r\n"greeting" = "Grüße";\r\n"bye" = "Tschüss";\r\n'.encode(codec)
    parsed = parse(data)
    assert parsed.entries == {"greeting": "Grüße", "bye": "Tschüss"}
    assert FMT.render(dict(parsed.entries), source=parsed, target=None) == data
    out = FMT.render({"greeting": "Hallo 😀", "bye": "Tschüss"}, source=parsed, target=parsed)
    assert out == bom + '/* c */\r\n"greeting" = "Hallo 😀";\r\n"bye" = "Tschüss";\r\n'.encode(codec)


def test_utf16_without_bom_is_detected() -> None:
    data = '"k" = "v";\n'.encode("utf-16-le")
    parsed = parse(data)
    assert parsed.entries == {"k": "v"}
    assert FMT.render({"k": "w"}, source=parsed, target=parsed) == '"k" = "w";\n'.encode("utf-16-le")


def test_utf8_bom_and_crlf_are_kept() -> None:
    data = b'\xef\xbb\xbf"a" = "A";\r\n"b" = "B";\r\n'
    parsed = parse(data)
    assert FMT.render({"a": "A", "b": "X"}, source=parsed, target=parsed) == b'\xef\xbb\xbf"a" = "A";\r\n"b" = "X";\r\n'
    added = FMT.render({"a": "A", "b": "B", "c": "C"}, source=parsed, target=parsed)
    assert added == b'\xef\xbb\xbf"a" = "A";\r\n"b" = "B";\r\n"c" = "C";\r\n'


# --- errors ---------------------------------------------------------------------------------


def test_missing_semicolon_is_reported_where_it_should_be() -> None:
    e = error('"a" = "A";\n"b" = "B"\n"c" = "C";\n')
    assert (e.line, e.column) == (3, 1)
    assert "';'" in e.detail


def test_missing_equals_sign() -> None:
    e = error('"a" "A";')
    assert (e.line, e.column) == (1, 5)


def test_unterminated_string_and_comment() -> None:
    e = error('"a" = "A";\n"b" = "never closed;\n')
    assert (e.line, e.column) == (2, 7)
    e = error('"a" = "A";\n  /* open\n')
    assert (e.line, e.column) == (2, 3)


def test_garbage_where_a_key_should_be() -> None:
    e = error('"a" = "A";\n  @oops\n')
    assert (e.line, e.column) == (2, 3)


def test_bad_unicode_escape() -> None:
    e = error('"a" = "x\\Uzz";')
    assert (e.line, e.column) == (1, 9)


def test_invalid_utf8_is_a_format_error_at_its_position() -> None:
    e = error(b'"a" = "A";\n"b" = "\xff";\n')
    assert (e.line, e.column) == (2, 8)


def test_odd_length_utf16_is_a_format_error() -> None:
    with pytest.raises(FormatError):
        parse(b"\xff\xfe\x22\x00\x61")


def test_xml_property_list_is_refused() -> None:
    e = error('<?xml version="1.0"?>\n<plist/>')
    assert e.line == 1


# --- rendering ------------------------------------------------------------------------------


def test_a_changed_value_keeps_quotes_and_spacing() -> None:
    parsed = parse("'a'  =  'it\\'s' ;\nb = plain;\n\"c\";\n")
    out = render({"a": 'it\'s "new"', "b": "two words", "c": "other"}, parsed, parsed)
    assert out == '\'a\'  =  \'it\\\'s "new"\' ;\nb = "two words";\n"c" = "other";\n'


def test_values_are_escaped_in_the_file_style() -> None:
    escaped = parse('"a" = "x\\ny";\n')
    assert render({"a": 'tab\there "q" \\ new\nline \x01'}, escaped, escaped) == (
        '"a" = "tab\\there \\"q\\" \\\\ new\\nline \\U0001";\n'
    )
    raw = parse('"a" = "x\ny";\n')
    assert render({"a": "one\ntwo"}, raw, raw) == '"a" = "one\ntwo";\n'


def test_lone_surrogates_are_written_as_escapes() -> None:
    parsed = parse('"a" = "x";')
    out = render({"a": "\ud800"}, parsed, parsed)
    assert out == '"a" = "\\UD800";'
    assert parse(out).entries == {"a": "\ud800"}


def test_unchanged_values_return_the_target_bytes() -> None:
    data = b'/* odd   spacing */ "a"="A" ;  // x\n'
    parsed = parse(data)
    assert FMT.render({"a": "A"}, source=parsed, target=parsed) == data


def test_new_key_copies_the_source_block_with_its_comment_in_source_order() -> None:
    source = parse(
        '/* Class = "NSMenuItem"; title = "Open"; */\n"open.title" = "Open";\n\n'
        '/* Class = "NSMenuItem"; title = "Save"; */\n"save.title" = "Save";\n\n'
        '/* Class = "NSMenuItem"; title = "Quit"; */\n"quit.title" = "Quit";\n'
    )
    target = parse(
        '/* Class = "NSMenuItem"; title = "Open"; */\n"open.title" = "Öffnen";\n\n'
        '/* Class = "NSMenuItem"; title = "Quit"; */\n"quit.title" = "Beenden";\n'
    )
    out = render({"open.title": "Öffnen", "save.title": "Sichern", "quit.title": "Beenden"}, source, target)
    assert out == (
        '/* Class = "NSMenuItem"; title = "Open"; */\n"open.title" = "Öffnen";\n\n'
        '/* Class = "NSMenuItem"; title = "Save"; */\n"save.title" = "Sichern";\n\n'
        '/* Class = "NSMenuItem"; title = "Quit"; */\n"quit.title" = "Beenden";\n'
    )


def test_new_first_key_goes_before_the_first_block() -> None:
    source = parse('/* A */\n"a" = "A";\n\n/* B */\n"b" = "B";\n')
    target = parse('/* B */\n"b" = "Be";\n')
    assert render({"a": "Ah", "b": "Be"}, source, target) == '/* A */\n"a" = "Ah";\n\n/* B */\n"b" = "Be";\n'


def test_new_key_after_a_last_line_without_newline_keeps_no_final_newline() -> None:
    source = parse('"a" = "A";\n"b" = "B";')
    target = parse('"a" = "X";')
    assert render({"a": "X", "b": "Y"}, source, target) == '"a" = "X";\n"b" = "Y";'


def test_key_only_in_values_is_appended_plainly() -> None:
    parsed = parse('"a" = "A";\n')
    assert render({"a": "A", "z/y": "Z"}, parsed, parsed) == '"a" = "A";\n"z/y" = "Z";\n'


def test_deleted_key_takes_its_own_comment_but_not_a_group_header() -> None:
    parsed = parse('// Group\n"a" = "A";\n"b" = "B";\n\n/* own comment */\n"c" = "C";\n\n"d" = "D";\n')
    assert render({"b": "B", "c": "C", "d": "D"}, parsed, parsed) == (
        '// Group\n"b" = "B";\n\n/* own comment */\n"c" = "C";\n\n"d" = "D";\n'
    )
    assert render({"a": "A", "b": "B", "d": "D"}, parsed, parsed) == '// Group\n"a" = "A";\n"b" = "B";\n\n"d" = "D";\n'
    assert render({"a": "A", "b": "B", "c": "C"}, parsed, parsed) == (
        '// Group\n"a" = "A";\n"b" = "B";\n\n/* own comment */\n"c" = "C";\n'
    )


def test_deleting_everything_then_adding_keeps_a_valid_file() -> None:
    source = parse('"n" = "N";\n')
    target = parse('/* header */\n"old" = "O";\n')
    # the header is directly above the only statement, so it counts as that statement's comment
    assert render({"n": "new"}, source, target) == '"n" = "new";\n'
    target = parse('/* header */\n\n"old" = "O";\n"older" = "O";')
    assert render({"n": "new"}, source, target) == '/* header */\n"n" = "new";'


def test_new_target_is_the_source_layout_with_the_new_values() -> None:
    source = parse('/* Greeting */\n"hello" = "Hello";\n\n"bye" = "Bye";\n')
    out = render({"hello": "Hallo", "bye": "Tschüss"}, source, None)
    assert out == '/* Greeting */\n"hello" = "Hallo";\n\n"bye" = "Tschüss";\n'


def test_empty_new_target_from_an_empty_source() -> None:
    source = parse(b"")
    assert render({"a": "A"}, source, None) == '"a" = "A";\n'


def test_non_string_leaves_are_written_as_text() -> None:
    parsed = parse('"a" = "x";\n"b" = "y";\n"c" = "z";\n')
    assert parse(render({"a": 3, "b": True, "c": None}, parsed, parsed)).entries == {"a": "3", "b": "true", "c": ""}


# --- real source/target pairs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_name", "target_name", "differences"),
    [
        ("iina/en.lproj/MainMenu.strings", "iina/de.lproj/MainMenu.strings", []),
        (
            "iina/en.lproj/Localizable.strings",
            "iina/zh-Hant.lproj/Localizable.strings",
            ['-"alert.add_url.title" = "\x18加入 URL";', '+"alert.add_url.title" = "\\U0018加入 URL";'],
        ),
        ("mastodon-ios/en.lproj/Localizable.strings", "mastodon-ios/ar.lproj/Localizable.strings", []),
    ],
)
def test_corpus_target_rebuilt_from_the_source_layout(
    source_name: str, target_name: str, differences: list[str]
) -> None:
    source, target = corpus(source_name), corpus(target_name)
    assert FMT.render(dict(target.entries), source=source, target=target) == target.raw
    new = FMT.render(dict(target.entries), source=source, target=None)
    assert FMT.parse(new, path="new").entries == target.entries
    # these targets were generated from their source: same keys, order and comments; only a raw
    # control character, in a value the source does not have, is written as an escape
    assert diff(target.raw, new) == differences


@pytest.mark.parametrize(
    ("source_name", "target_name"),
    [
        ("iina/en.lproj/MainMenu.strings", "iina/de.lproj/MainMenu.strings"),
        ("mastodon-ios/en.lproj/Localizable.strings", "mastodon-ios/de.lproj/Localizable.strings"),
    ],
)
def test_corpus_keys_removed_then_restored_give_the_same_file(source_name: str, target_name: str) -> None:
    source, target = corpus(source_name), corpus(target_name)
    keys = list(target.entries)
    partial = {k: v for k, v in target.entries.items() if k not in (keys[0], keys[1], keys[9], keys[-1])}
    smaller = FMT.parse(FMT.render(partial, source=source, target=target), path="partial")
    assert smaller.entries == partial
    restored = FMT.render(dict(target.entries), source=source, target=smaller)
    assert restored == target.raw


def test_corpus_translation_changes_only_its_line() -> None:
    source, target = corpus("iina/en.lproj/MainMenu.strings"), corpus("iina/de.lproj/MainMenu.strings")
    values = dict(target.entries)
    values["0Cz-OE-85L.title"] = "Untertitelverzögerung + 0,1 s"
    out = FMT.render(values, source=source, target=target)
    assert diff(target.raw, out) == [
        '-"0Cz-OE-85L.title" = "Verzögerung + 0,1 s";',
        '+"0Cz-OE-85L.title" = "Untertitelverzögerung + 0,1 s";',
    ]


def test_corpus_control_character_and_multiline_values_survive() -> None:
    zh = corpus("iina/zh-Hant.lproj/Localizable.strings")
    assert "\x18" in str(zh.entries["alert.add_url.title"])
    mastodon = corpus("mastodon-ios/en.lproj/Localizable.strings")
    assert mastodon.entries["Common.Alerts.MediaMissingAltText.Message"] == (
        "%d of your images are missing alt text.\nPost Anyway?"
    )
    values = dict(mastodon.entries)
    values["Common.Alerts.MediaMissingAltText.Message"] = "Two\nlines"
    out = FMT.render(values, source=mastodon, target=mastodon)
    assert b'"Common.Alerts.MediaMissingAltText.Message" = "Two\nlines";' in out  # the file's raw style
    assert not out.endswith(b"\n")  # the file has no final newline


def test_corpus_files_are_found() -> None:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not present")
    assert len([p for p in Path(CORPUS).rglob("*.strings")]) == 7
