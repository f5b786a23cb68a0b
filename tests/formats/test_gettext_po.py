"""Gettext PO/POT: the format contract on the corpus, keys and values, and writing in place."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from tests.formats.contract import CORPUS, FormatContract, changed_lines

FMT = get_format("po")
HEADER = 'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'


class TestGettextPoContract(FormatContract):
    format_name = "po"
    corpus_dirs = ("gettext-po",)
    corpus_suffixes = (".po", ".pot")
    sample = (
        b"# German translation.\n"
        b'msgid ""\n'
        b'msgstr ""\n'
        b'"Language: de\\n"\n'
        b'"Content-Type: text/plain; charset=UTF-8\\n"\n'
        b'"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
        b"\n"
        b"#. TRANSLATORS: a greeting\n"
        b"#: src/app.c:12\n"
        b'msgid "Hello"\n'
        b'msgstr "Hallo"\n'
        b"\n"
        b'msgctxt "menu"\n'
        b'msgid "Open"\n'
        b'msgstr "\xc3\x96ffnen"\n'
        b"\n"
        b'msgid "%d file"\n'
        b'msgid_plural "%d files"\n'
        b'msgstr[0] "%d Datei"\n'
        b'msgstr[1] "%d Dateien"\n'
        b"\n"
        b'#~ msgid "Old"\n'
        b'#~ msgstr "Alt"\n'
    )


def parse(text: str, path: str = "de.po") -> ParsedFile:
    return FMT.parse(text.encode(), path=path)


def write(text: str, values: dict[str, Leaf], source: ParsedFile | None = None) -> str:
    """Render ``values`` into ``text`` (its own source unless given) and check it reads back."""
    target = parse(text)
    out = FMT.render(values, source=source or target, target=target).decode()
    assert parse(out).entries == values
    return out


def corpus(name: str) -> ParsedFile:
    return FMT.parse((CORPUS / "gettext-po" / name).read_bytes(), path=name)


# --- keys and values -------------------------------------------------------------------------


def test_keys_are_msgids_with_their_context_and_plural_forms() -> None:
    text = HEADER + (
        'msgid "a/b"\nmsgstr "x"\n\nmsgctxt "menu"\nmsgid "Open"\nmsgstr "y"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] "viele"\n'
    )
    assert parse(text).entries == {"a~1b": "x", "menu\x04Open": "y", "one/#0": "eins", "one/#1": "viele"}


def test_untranslated_and_fuzzy_entries_are_absent_from_a_translation() -> None:
    text = HEADER + 'msgid "a"\nmsgstr ""\n\n#, fuzzy\nmsgid "b"\nmsgstr "B?"\n\nmsgid "c"\nmsgstr "C"\n'
    assert parse(text).entries == {"c": "C"}


def test_a_template_gives_every_msgid() -> None:
    text = 'msgid "a"\nmsgstr ""\n\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\nmsgstr[1] ""\n'
    expected = {"a": "a", "one/#0": "one", "one/#1": "many"}
    assert parse(text, "messages.pot").entries == expected
    assert parse(text, "en.po").entries == expected  # no Language in the header: a template too
    assert parse('msgid "a"\nmsgstr "Alpha"\n', "en.po").entries == {"a": "Alpha"}


def test_strings_are_joined_and_unescaped() -> None:
    text = HEADER + 'msgid ""\n"tab\\there "\n"line\\n"\nmsgstr "\\"q\\" \\\\ \\101\\x42"\n'
    assert parse(text).entries == {"tab\there line\n": '"q" \\ AB'}


def test_the_header_charset_decodes_the_file() -> None:
    data = b'msgid ""\nmsgstr ""\n"Language: fr\\n"\n"Content-Type: text/plain; charset=ISO-8859-1\\n"\n\nmsgid "e"\nmsgstr "\xe9"\n'
    parsed = FMT.parse(data, path="fr.po")
    assert parsed.entries == {"e": "é"}
    out = FMT.render({"e": "è"}, source=parsed, target=parsed)
    assert out.endswith(b'msgstr "\xe8"\n')


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('msgid "a"\nmsgstr "b\n', 2, 8),
        ('msgid "a"\nmsgid "b"\nmsgstr ""\n', 2, 1),
        ('msgid "a"\nmsgstr "x" y\n', 2, 12),
        ('msgid "a"\nmsgstr "\\q"\n', 2, 9),
        ('msgid "a"\nmsgstr[0] "x"\n', 2, 1),
        ('msgid "a"\nmsgstr "x"\n\nmsgid "a"\nmsgstr "y"\n', 4, 1),
        ('"orphan"\n', 1, 1),
        ('msgfoo "x"\n', 1, 1),
        ('msgid "a"\n', 1, 1),
    ],
)
def test_malformed_files_name_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(FormatError) as error:
        FMT.parse(text.encode(), path="bad.po")
    assert (error.value.path, error.value.line, error.value.column) == ("bad.po", line, column)


def test_invalid_utf8_is_a_format_error() -> None:
    with pytest.raises(FormatError) as error:
        FMT.parse(b'msgid "a"\nmsgstr "\xff"\n', path="bad.po")
    assert (error.value.line, error.value.column) == (2, 9)


# --- writing into an existing file -----------------------------------------------------------


def test_a_changed_translation_rewrites_only_its_msgstr() -> None:
    text = HEADER + '#: a.c:1\nmsgid "a"\nmsgstr "old"\n\nmsgid "b"\nmsgstr "B"\n'
    assert write(text, {"a": "new", "b": "B"}) == text.replace('"old"', '"new"')


def test_long_and_multi_line_values_are_wrapped_like_msgmerge() -> None:
    text = HEADER + 'msgid "a"\nmsgstr ""\n"wrapped "\n"line"\n'
    out = write(text, {"a": "word " * 20 + "end\nsecond line"})
    assert out.endswith('msgstr ""\n"' + "word " * 15 + '"\n"word word word word word end\\n"\n"second line"\n')


def test_a_file_that_does_not_wrap_gets_long_lines() -> None:
    long = "x " * 50
    text = HEADER + f'msgid "a"\nmsgstr "{long}"\n'
    assert write(text, {"a": long + "more"}).endswith(f'msgstr "{long}more"\n')


def test_writing_a_fuzzy_entry_removes_the_flag_and_previous_msgid() -> None:
    text = HEADER + '#: a.c:1\n#, fuzzy, c-format\n#| msgid "old %d"\nmsgid "new %d"\nmsgstr "alt %d"\n'
    out = write(text, {"new %d": "neu %d"})
    assert out == HEADER + '#: a.c:1\n#, c-format\nmsgid "new %d"\nmsgstr "neu %d"\n'
    only_fuzzy = HEADER + '#, fuzzy\nmsgid "a"\nmsgstr "A?"\n'
    assert write(only_fuzzy, {"a": "A?"}) == HEADER + 'msgid "a"\nmsgstr "A?"\n'


def test_a_dropped_translation_becomes_fuzzy_or_goes_with_its_source_key() -> None:
    text = HEADER + 'msgid "a"\nmsgstr "A"\n\n#, c-format\nmsgid "b"\nmsgstr "B"\n\nmsgid "c"\nmsgstr "C"\n'
    source = parse('msgid "a"\nmsgstr ""\n\nmsgid "b"\nmsgstr ""\n', "x.pot")
    out = write(text, {}, source=source)
    assert out == HEADER + '#, fuzzy\nmsgid "a"\nmsgstr "A"\n\n#, fuzzy, c-format\nmsgid "b"\nmsgstr "B"\n'


def test_plural_forms_are_written_and_added() -> None:
    text = HEADER + 'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\nmsgstr[1] ""\n'
    assert write(text, {"one/#0": "eins", "one/#1": "viele"}).endswith('msgstr[0] "eins"\nmsgstr[1] "viele"\n')
    out = write(text, {"one/#0": "eins", "one/#1": "zwei", "one/#2": "drei"})
    assert out.endswith('msgstr[0] "eins"\nmsgstr[1] "zwei"\nmsgstr[2] "drei"\n')


def test_new_entries_follow_source_order_with_the_source_comments() -> None:
    source = parse(
        '#: a.c:1\nmsgid "a"\nmsgstr ""\n\n#. note\n#: b.c:2\n#, fuzzy, c-format\nmsgid "b %d"\nmsgstr ""\n\n'
        'msgctxt "m"\nmsgid "c"\nmsgid_plural "cs"\nmsgstr[0] ""\nmsgstr[1] ""\n',
        "x.pot",
    )
    target = HEADER + '#: a.c:1\nmsgid "a"\nmsgstr "A"\n'
    out = write(target, {"a": "A", "b %d": "B %d", "m\x04c/#0": "C", "m\x04c/#1": "Cs"}, source=source)
    assert out == target + (
        '\n#. note\n#: b.c:2\n#, c-format\nmsgid "b %d"\nmsgstr "B %d"\n'
        '\nmsgctxt "m"\nmsgid "c"\nmsgid_plural "cs"\nmsgstr[0] "C"\nmsgstr[1] "Cs"\n'
    )


def test_a_new_first_entry_goes_before_the_next_one() -> None:
    source = parse('msgid "a"\nmsgstr ""\n\nmsgid "b"\nmsgstr ""\n', "x.pot")
    out = write(HEADER + 'msgid "b"\nmsgstr "B"\n', {"a": "A", "b": "B"}, source=source)
    assert out == HEADER + 'msgid "a"\nmsgstr "A"\n\nmsgid "b"\nmsgstr "B"\n'


def test_line_endings_are_kept_per_line() -> None:
    data = b'msgid ""\r\nmsgstr ""\r\n"Language: de\\n"\r\n\r\nmsgid "a"\nmsgstr "x"\nmsgid "b"\r\nmsgstr "y"\r\n'
    parsed = FMT.parse(data, path="de.po")
    out = FMT.render({"a": "X", "b": "two\nlines that are quite long"}, source=parsed, target=parsed)
    assert out == data.replace(b'"x"', b'"X"').replace(
        b'msgstr "y"', b'msgstr ""\r\n"two\\n"\r\n"lines that are quite long"'
    )


def test_obsolete_entries_and_bom_are_kept() -> None:
    data = b"\xef\xbb\xbf" + HEADER.encode() + b'msgid "a"\nmsgstr "A"\n\n#~ msgid "old"\n#~ msgstr "alt"\n'
    parsed = FMT.parse(data, path="de.po")
    assert parsed.entries == {"a": "A"}
    assert FMT.render({"a": "B"}, source=parsed, target=parsed) == data.replace(b'"A"', b'"B"')


# --- new targets -----------------------------------------------------------------------------


def test_a_new_target_gets_language_plural_forms_and_every_msgid() -> None:
    pot = (
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=CHARSET\\n"\n'
        '"Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;\\n"\n\n'
        'msgid "a"\nmsgstr ""\n\nmsgid "b"\nmsgstr ""\n\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\nmsgstr[1] ""\n'
    )
    source = parse(pot, "x.pot")
    values: dict[str, Leaf] = {"a": "ا", "one/#0": "0", "one/#5": "5"}
    out = FMT.render(values, source=source, target=None, locale="ar").decode()
    assert FMT.parse(out.encode(), path="ar.po").entries == values
    assert out.startswith('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n')
    assert '"Language: ar\\n"' in out and "nplurals=6;" in out
    assert 'msgid "b"\nmsgstr ""\n' in out
    assert 'msgstr[0] "0"\nmsgstr[1] ""\nmsgstr[2] ""\nmsgstr[3] ""\nmsgstr[4] ""\nmsgstr[5] "5"\n' in out


def test_a_new_target_from_a_template_without_header_gets_one() -> None:
    source = parse('## comment\nmsgid "a"\nmsgstr ""\n', "errors.pot")
    out = FMT.render({"a": "A"}, source=source, target=None, locale="de").decode()
    assert out.startswith('msgid ""\nmsgstr ""\n"Language: de\\n"\n')
    assert FMT.parse(out.encode(), path="de.po").entries == {"a": "A"}


# --- the corpus ------------------------------------------------------------------------------


def test_teslamate_german_from_the_template() -> None:
    pot, de = corpus("teslamate/default.pot"), corpus("teslamate/de/LC_MESSAGES/default.po")
    values = {k: de.entries.get(k, f"DE {v}") for k, v in pot.entries.items()}
    untranslated = [k for k in pot.entries if k not in de.entries]
    assert untranslated
    out = FMT.render(values, source=pot, target=de, locale="de")
    assert FMT.parse(out, path="de.po").entries == values
    # each newly translated msgstr is one changed line (its entry existed, untranslated or fuzzy);
    # a fuzzy entry also loses the flag on its "#," line
    fuzzy = [e for e in de.layout.entries if e.fuzzy and not e.is_header]
    assert changed_lines(de.raw, out) == 2 * len(untranslated) + 2 * len(fuzzy)
    assert b", fuzzy" not in out


def test_wagtail_arabic_gets_the_entries_it_lacks_with_six_forms() -> None:
    en, ar = corpus("wagtail/en/LC_MESSAGES/django.po"), corpus("wagtail/ar/LC_MESSAGES/django.po")
    assert en.layout.template and not ar.layout.template
    values = {**{k: ar.entries.get(k, f"AR {v}") for k, v in en.entries.items() if "/#" not in k}}
    for key in en.entries:
        if "/#" in key:
            stem = key.split("/")[0]
            values.update({f"{stem}/#{n}": ar.entries.get(f"{stem}/#{n}", f"AR {n}") for n in range(6)})
    out = FMT.render(values, source=en, target=ar, locale="ar")
    assert FMT.parse(out, path="ar.po").entries == values


def test_teslamate_new_german_target_from_the_template() -> None:
    pot = corpus("teslamate/errors.pot")
    values = {k: f"DE {v}" for k, v in pot.entries.items()}
    out = FMT.render(values, source=pot, target=None, locale="de")
    back = FMT.parse(out, path="errors.po")
    assert back.entries == values and not back.layout.template


@pytest.mark.parametrize("charset", ["idna", "utf-16", "base64", "bogus", "CHARSET"])
def test_unusable_charsets_fall_back_to_utf8_or_fail_cleanly(charset: str) -> None:
    data = f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset={charset}\\n"\n\nmsgid "a"\nmsgstr "ä"\n'.encode()
    try:
        assert FMT.parse(data, path="x.po").entries == {"a": "ä"}
    except FormatError as error:
        assert error.path == "x.po" and error.line is not None


_PO_LINES = st.sampled_from(
    [
        "", "# c", "#. x", "#: a.c:1", "#, fuzzy", "#, c-format", '#| msgid "o"', '#~ msgid "o"', '#~ msgstr "p"',
        'msgctxt "k"', 'msgid "a"', 'msgid "b/c"', 'msgid ""', 'msgid_plural "as"', 'msgstr ""', 'msgstr "x"',
        'msgstr[0] "y"', 'msgstr[1] ""', '"more\\n"', '"tab\\t"', 'msgstr "\\q"', 'msgid "', "junk", "  ",
    ]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(_PO_LINES, max_size=14), st.sampled_from(["\n", "\r\n"]), st.text(max_size=12))
def test_any_line_sequence_parses_or_fails_cleanly_and_writes_back(lines: list[str], eol: str, value: str) -> None:
    data = (HEADER + eol.join(lines)).replace("\n", eol).encode()
    try:
        parsed = FMT.parse(data, path="f.po")
    except FormatError as error:
        assert error.path == "f.po" and error.line is not None and error.column is not None
        return
    assert FMT.render(dict(parsed.entries), source=parsed, target=parsed) == data
    values: dict[str, Leaf] = {k: v + value if value.strip() else v for k, v in parsed.entries.items()}
    values["new"] = "N" + value
    out = FMT.render(values, source=parsed, target=parsed)
    assert FMT.parse(out, path="f.po").entries == values
