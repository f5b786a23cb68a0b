"""AndroidStringsFormat: keys, Android escapes, markup, errors, and byte-exact span splicing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.android_xml import AndroidStringsFormat
from daemon.formats.base import Leaf, ParsedFile
from tests.formats.contract import FormatContract
from tests.formats.pairs import diff_lines as diff
from tests.formats.pairs import read_corpus

FMT = AndroidStringsFormat()
HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


def doc(body: str, root: str = "<resources>") -> bytes:
    """A strings.xml with ``body`` (lines already indented) inside ``root``."""
    return f"{HEAD}{root}\n{body}</resources>\n".encode()


def parse(data: bytes | str, locale: str | None = None) -> ParsedFile:
    return FMT.parse(data.encode() if isinstance(data, str) else data, path="strings.xml", locale=locale)


def value_of(content: str) -> Leaf:
    """The value of ``<string name="k">content</string>``."""
    return parse(doc(f'    <string name="k">{content}</string>\n')).entries["k"]


def error(data: bytes | str) -> FormatError:
    with pytest.raises(FormatError) as info:
        parse(data)
    return info.value


def render(values: dict[str, str], source: ParsedFile, target: ParsedFile | None = None) -> bytes:
    return FMT.render(values, source=source, target=target, locale="de")


def corpus(path: str) -> bytes:
    return read_corpus(f"android-xml/{path}")


SAMPLE = (
    HEAD + '<resources xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2">\n'
    "    <!-- Greetings -->\n"
    '    <string name="hello">Hello <xliff:g id="name">%s</xliff:g>!</string>\n'
    '    <string name="app" translatable="false">App</string>\n'
    '    <string name="quote">Don\\\'t say \\"no\\"</string>\n'
    '    <plurals name="items">\n'
    '        <item quantity="one">%d item</item>\n'
    '        <item quantity="other">%d items</item>\n'
    "    </plurals>\n"
    '    <string-array name="planets">\n'
    "        <item>Mercury</item>\n"
    "        <item>@string/venus</item>\n"
    "        <item>Earth</item>\n"
    "    </string-array>\n"
    '    <integer-array name="sizes">\n'
    "        <item>1</item>\n"
    "    </integer-array>\n"
    "</resources>\n"
).encode()


class TestAndroidContract(FormatContract):
    format_name = "android"
    corpus_dirs = ("android-xml",)
    corpus_suffixes = (".xml",)
    sample = SAMPLE


# --- registry and keys ------------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_format("android"), AndroidStringsFormat)
    assert AndroidStringsFormat.extensions == (".xml",)


def test_keys_for_strings_plural_forms_and_array_items() -> None:
    assert parse(SAMPLE).entries == {
        "hello": 'Hello <xliff:g id="name">%s</xliff:g>!',
        "quote": 'Don\'t say "no"',
        "items/#one": "%d item",
        "items/#other": "%d items",
        "planets/0": "Mercury",
        "planets/2": "Earth",  # item 1 is a reference: not an entry, but positions stay
    }


def test_untranslatable_resources_are_not_entries() -> None:
    data = doc(
        '    <string name="a" translatable="false">x</string>\n'
        '    <plurals name="b" translatable="false"><item quantity="one">x</item></plurals>\n'
        '    <string-array name="c"><item>@string/a</item><item>42</item><item>-1.5</item></string-array>\n'
        '    <bool name="d">true</bool>\n'
        '    <item type="string" name="e">x</item>\n'
    )
    assert parse(data).entries == {}


def test_key_segments_are_escaped_like_json_pointer() -> None:
    assert list(parse(doc('    <string name="a/b~c">x</string>\n')).entries) == ["a~1b~0c"]


# --- Android escapes and whitespace -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "value"),
    [
        ("It\\'s", "It's"),
        ('Say \\"hi\\"', 'Say "hi"'),
        ("a\\nb\\tc", "a\nb\tc"),
        ("\\@home \\?attr", "@home ?attr"),
        ("back\\\\slash", "back\\slash"),
        ("\\u00e9t\\u00E9", "été"),
        ("\\uD83E\\uDDD8", "\U0001f9d8"),  # a surrogate pair becomes one character
        ("\\uD83E alone", "\ufffd alone"),
        ("trailing:\\u0020", "trailing: "),
        ("  padded   out  ", "padded out"),
        ("two\n        lines", "two lines"),
        ('"  kept  as is "', "  kept  as is "),
        ('"it\'s"', "it's"),
        ("a\\qb", "aqb"),  # an unknown escape keeps the character
        ("Backup &amp; restore &#8230; &lt;x&gt;", "Backup & restore … <x>"),
        ('<![CDATA[<i>%1$s</i> \\"q\\"]]>', '<i>%1$s</i> "q"'),
        ("<b>bold</b>  <i> it </i>", "<b>bold</b> <i>it </i>"),  # collapsing runs across tags, as aapt2
        ("", ""),
    ],
)
def test_android_unescaping(content: str, value: str) -> None:
    assert value_of(content) == value


@pytest.mark.parametrize(
    ("value", "content"),
    [
        ("It's", "It\\'s"),
        ('Say "hi"', 'Say \\"hi\\"'),
        ("a\nb\tc", "a\\nb\\tc"),
        ("@home", "\\@home"),
        ("?x", "\\?x"),
        ("mid @ and ?", "mid @ and ?"),
        ("back\\slash", "back\\\\slash"),
        (" lead", "\\u0020lead"),
        ("trail ", "trail\\u0020"),
        ("a  b", "a \\u0020b"),
        ("x & y < z", "x &amp; y &lt; z"),
        ("cr\rbell\x07", "cr\\u000Dbell\\u0007"),
        ("emoji 😀", "emoji 😀"),
    ],
)
def test_android_escaping_of_changed_values(value: str, content: str) -> None:
    source = parse(doc('    <string name="k">old</string>\n'))
    out = render({"k": value}, source, source)
    assert out == doc(f'    <string name="k">{content}</string>\n')
    assert parse(out).entries == {"k": value}


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_value_reads_back_exactly(value: str) -> None:
    source = parse(doc('    <string name="k">old</string>\n    <string name="c"><![CDATA[x]]></string>\n'))
    out = render({"k": value, "c": value}, source, source)
    assert parse(out).entries == {"k": value, "c": value}


# --- markup, CDATA and entities ---------------------------------------------------------------


def test_markup_in_a_translation_is_written_as_markup() -> None:
    source = parse(SAMPLE)
    values = dict(source.entries, hello='Hallo <xliff:g id="name">%s</xliff:g> & <b>du</b>!')
    out = render(values, source, source)
    assert '<string name="hello">Hallo <xliff:g id="name">%s</xliff:g> &amp; <b>du</b>!</string>' in out.decode()
    assert parse(out).entries == values


def test_unbalanced_markup_is_written_as_text() -> None:
    source = parse(SAMPLE)
    values = dict(source.entries, hello="Hallo <b>%s</i> <br/>")
    out = render(values, source, source)
    assert "Hallo &lt;b>%s&lt;/i> &lt;br/>" in out.decode()
    assert parse(out).entries == values


def test_tags_escaped_as_text_stay_escaped() -> None:
    """Mastodon writes ``&lt;a>`` (tags parsed at run time): a new value keeps that style."""
    source = parse(doc('    <string name="k">Or &lt;a>pick another&lt;/a>.</string>\n'))
    assert source.entries == {"k": "Or <a>pick another</a>."}
    out = render({"k": "Oder &lt;a>wähle&lt;/a>".replace("&lt;", "<")}, source, source)
    assert out == doc('    <string name="k">Oder &lt;a>wähle&lt;/a></string>\n')


def test_cdata_stays_cdata() -> None:
    source = parse(doc('    <string name="k"><![CDATA[<i>%1$s</i> logged in]]></string>\n'))
    out = render({"k": '<i>%1$s</i> ist angemeldet ]]> "ok"'}, source, source)
    assert out == doc('    <string name="k"><![CDATA[<i>%1$s</i> ist angemeldet ]]]]><![CDATA[> \\"ok\\"]]></string>\n')
    assert parse(out).entries == {"k": '<i>%1$s</i> ist angemeldet ]]> "ok"'}


def test_quotes_written_as_references_keep_their_escape() -> None:
    """A file that prefers ``&quot;`` gets ``\\&quot;``: the escape straddles text and reference."""
    source = parse(doc('    <string name="a">&quot;q&quot;</string>\n    <string name="b">old</string>\n'))
    out = render({"a": "q", "b": 'say "hi"'}, source, source)
    assert '<string name="b">say \\&quot;hi\\&quot;</string>' in out.decode()
    assert parse(out).entries == {"a": "q", "b": 'say "hi"'}


def test_an_escaped_at_sign_in_an_array_is_text_not_a_reference() -> None:
    source = parse(doc('    <string-array name="a">\n        <item>\\@string/x</item>\n    </string-array>\n'))
    assert source.entries == {"a/0": "@string/x"}


def test_gt_is_escaped_when_the_file_mostly_does() -> None:
    source = parse(doc('    <string name="a">x &gt; y</string>\n    <string name="b">old</string>\n'))
    out = render({"a": "x > y", "b": "p > q"}, source, source)
    assert '<string name="b">p &gt; q</string>' in out.decode()


def test_declared_entities_stay_references() -> None:
    data = (
        HEAD + '<!DOCTYPE resources [\n    <!ENTITY APP "Termux">\n    ]>\n<resources>\n'
        '    <string name="a">&APP; user</string>\n</resources>\n'
    ).encode()
    source = parse(data)
    assert source.entries == {"a": "&APP; user"}
    out = render({"a": "&APP;-Benutzer & &NOPE;"}, source, source)
    assert '<string name="a">&APP;-Benutzer &amp; &amp;NOPE;</string>' in out.decode()
    assert parse(out).entries == {"a": "&APP;-Benutzer & &NOPE;"}


# --- errors -----------------------------------------------------------------------------------


def test_malformed_xml_reports_line_and_column() -> None:
    err = error(doc('    <string name="a">x</string>\n    <string name="b">é</strin>\n'))
    # expat points at the tag name; columns count characters, so "é" is one
    assert (err.path, err.line, err.column) == ("strings.xml", 4, 25)
    assert "mismatched tag" in err.detail


@pytest.mark.parametrize(
    ("data", "line", "detail"),
    [
        (b"", 1, "no element found"),
        (b"<resources><string name='a'>\xff</string></resources>", 1, "not well-formed"),
        (HEAD.encode() + b"<manifest/>\n", 2, "root element must be <resources>"),
        (doc("    <string>x</string>\n"), 3, "no name"),
        (doc('    <string name="a">x</string>\n    <plurals name="a"/>\n'), 4, "duplicate resource name 'a'"),
        (
            doc('    <plurals name="p"><item quantity="one">a</item><item quantity="one">b</item></plurals>\n'),
            3,
            "two 'one'",
        ),
        (doc('    <plurals name="p"><item>a</item></plurals>\n'), 3, "no quantity"),
        ('<?xml version="1.0" encoding="utf-16"?><resources/>'.encode("utf-16"), 1, "UTF-16"),
        (b'<?xml version="1.0" encoding="shift_jis"?><resources/>', 1, "unsupported encoding"),
    ],
)
def test_errors(data: bytes, line: int, detail: str) -> None:
    err = error(data)
    assert err.line == line
    assert err.column is not None and err.column >= 1
    assert detail in err.detail


@pytest.mark.parametrize(
    "dtd",
    [
        '<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">',  # billion laughs
        '<!ENTITY a SYSTEM "file:///etc/passwd">',
        '<!ENTITY % p "x">',
        f'<!ENTITY big "{"x" * 2000}">',
        '<!ENTITY m "<b>x</b>">',
    ],
)
def test_dangerous_entity_declarations_are_refused(dtd: str) -> None:
    err = error(f"{HEAD}<!DOCTYPE resources [{dtd}]>\n<resources/>\n")
    assert err.line == 2


def test_undeclared_entity_is_a_format_error() -> None:
    assert "undefined entity" in error(doc('    <string name="a">&nope;</string>\n')).detail


# --- rendering: fidelity ----------------------------------------------------------------------


def test_unchanged_values_give_the_target_bytes() -> None:
    target = parse(SAMPLE)
    assert render(dict(target.entries), parse(SAMPLE), target) == SAMPLE


def test_layout_path_keeps_every_byte_of_a_plain_file() -> None:
    """No raw-bytes shortcut: a file of translatable strings re-renders from its layout as is."""
    data = b'\xef\xbb\xbf<?xml version="1.0"?>\r\n<resources>\r\n\t<string name="a" >A\\\'s</string>\r\n</resources>'
    source = parse(data)
    assert render(dict(source.entries), source) == data


def test_a_changed_value_changes_only_its_line() -> None:
    source = parse(SAMPLE)
    out = render(dict(source.entries, **{"items/#other": "%d Dinge"}), source, source)
    assert diff(SAMPLE, out) == [
        '-        <item quantity="other">%d items</item>',
        '+        <item quantity="other">%d Dinge</item>',
    ]


def test_self_closing_element_gets_content() -> None:
    source = parse(doc('    <string name="a" />\n'))
    assert source.entries == {"a": ""}
    assert render({"a": "x"}, source, source) == doc('    <string name="a">x</string>\n')


def test_crlf_and_missing_final_newline_survive_insertions() -> None:
    source = parse(b'<resources>\r\n  <string name="a">A</string>\r\n  <string name="b">B</string>\r\n</resources>')
    target = parse(b'<resources>\r\n  <string name="a">a</string>\r\n</resources>')
    out = render({"a": "a", "b": "b"}, source, target)
    assert out == b'<resources>\r\n  <string name="a">a</string>\r\n  <string name="b">b</string>\r\n</resources>'


# --- rendering: new, removed and moved keys ---------------------------------------------------

SOURCE = doc(
    '    <string name="a">A</string>\n'
    '    <string name="b" formatted="false">B %s</string>\n'
    '    <plurals name="p">\n'
    '        <item quantity="one">one</item>\n'
    '        <item quantity="other">other</item>\n'
    "    </plurals>\n"
    '    <string name="c">C</string>\n'
)


def test_new_key_goes_after_its_source_predecessor_in_the_targets_indentation() -> None:
    target = parse(doc('\t<string name="a">a</string>\n\t<string name="c">c</string>\n'))
    out = render({"a": "a", "b": "b %s", "c": "c"}, parse(SOURCE), target)
    assert out == doc(
        '\t<string name="a">a</string>\n\t<string name="b" formatted="false">b %s</string>\n\t<string name="c">c</string>\n'
    )


def test_new_first_key_goes_before_the_first_element() -> None:
    target = parse(doc('    <!-- top -->\n    <string name="c">c</string>\n'))
    out = render({"a": "a", "c": "c"}, parse(SOURCE), target)
    assert out == doc('    <!-- top -->\n    <string name="a">a</string>\n    <string name="c">c</string>\n')


def test_new_plurals_take_the_locales_forms_in_cldr_order() -> None:
    target = parse(doc('    <string name="a">a</string>\n'))
    values = {"a": "a", "p/#other": "o", "p/#zero": "z", "p/#few": "f", "p/#one": "1"}
    out = render(values, parse(SOURCE), target)
    assert out == doc(
        '    <string name="a">a</string>\n'
        '    <plurals name="p">\n'
        '        <item quantity="zero">z</item>\n'
        '        <item quantity="one">1</item>\n'
        '        <item quantity="few">f</item>\n'
        '        <item quantity="other">o</item>\n'
        "    </plurals>\n"
    )
    assert parse(out).entries == values


def test_missing_plural_forms_are_added_in_cldr_order() -> None:
    target = parse(
        doc(
            '  <plurals name="p">\n    <item quantity="one">1</item>\n    <item quantity="other">o</item>\n  </plurals>\n'
        )
    )
    out = render({"p/#zero": "z", "p/#one": "1", "p/#many": "m", "p/#other": "o"}, parse(SOURCE), target)
    assert out == doc(
        '  <plurals name="p">\n    <item quantity="zero">z</item>\n    <item quantity="one">1</item>\n'
        '    <item quantity="many">m</item>\n    <item quantity="other">o</item>\n  </plurals>\n'
    )


def test_removed_keys_leave_with_their_lines() -> None:
    target = parse(SOURCE)
    out = render({"a": "A", "p/#other": "other"}, parse(SOURCE), target)
    assert out == doc(
        '    <string name="a">A</string>\n    <plurals name="p">\n        <item quantity="other">other</item>\n    </plurals>\n'
    )
    assert render({"a": "A"}, parse(SOURCE), target) == doc('    <string name="a">A</string>\n')


def test_a_section_comment_goes_when_its_whole_section_does() -> None:
    target = parse(
        doc(
            '    <string name="a">A</string>\n\n    <!-- Gone -->\n    <string name="b">B</string>\n\n    <string name="c">C</string>\n'
        )
    )
    out = render({"a": "A", "c": "C"}, parse(SOURCE), target)
    assert out == doc('    <string name="a">A</string>\n\n    <string name="c">C</string>\n')


def test_new_target_from_the_source_holds_only_translations() -> None:
    source = parse(SAMPLE)
    values = {k: f"T:{v}" for k, v in source.entries.items()}
    out = render(values, source)
    assert out.decode() == (
        HEAD + '<resources xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2">\n'
        "    <!-- Greetings -->\n"
        '    <string name="hello">T:Hello <xliff:g id="name">%s</xliff:g>!</string>\n'
        '    <string name="quote">T:Don\\\'t say \\"no\\"</string>\n'
        '    <plurals name="items">\n'
        '        <item quantity="one">T:%d item</item>\n'
        '        <item quantity="other">T:%d items</item>\n'
        "    </plurals>\n"
        '    <string-array name="planets">\n'
        "        <item>T:Mercury</item>\n"
        "        <item>@string/venus</item>\n"
        "        <item>T:Earth</item>\n"
        "    </string-array>\n"
        "</resources>\n"
    )
    assert parse(out).entries == values


def test_new_array_in_a_target_copies_reference_items() -> None:
    target = parse(doc('    <string name="hello">Hallo</string>\n'))
    out = render({"hello": "Hallo", "planets/0": "Merkur", "planets/2": "Erde"}, parse(SAMPLE), target)
    assert "<item>Merkur</item>\n        <item>@string/venus</item>\n        <item>Erde</item>" in out.decode()


def test_translation_replaces_an_untranslatable_copy_in_the_target() -> None:
    target = parse(doc('    <string name="a" translatable="false">A</string>\n'))
    assert target.entries == {}
    assert render({"a": "x"}, parse(SOURCE), target) == doc('    <string name="a">x</string>\n')


def test_empty_target_root_receives_elements() -> None:
    out = render({"c": "c"}, parse(SOURCE), parse(f"{HEAD}<resources/>\n"))
    assert out == doc('    <string name="c">c</string>\n')


def test_namespace_prefix_is_declared_when_new_content_uses_it() -> None:
    target = parse(doc('    <string name="quote">x</string>\n'))
    out = render({"quote": "x", "hello": 'Hi <xliff:g id="name">%s</xliff:g>'}, parse(SAMPLE), target)
    assert out.startswith((HEAD + '<resources xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2">\n').encode())
    assert parse(out).entries == {"quote": "x", "hello": 'Hi <xliff:g id="name">%s</xliff:g>'}


def test_prefixes_of_copied_start_tags_are_declared_too() -> None:
    source = parse(
        doc('    <string name="w" tools:ignore="UnusedResources">W</string>\n', '<resources xmlns:tools="urn:t">')
    )
    out = render({"w": "w"}, source, parse(doc("")))
    assert out == doc(
        '    <string name="w" tools:ignore="UnusedResources">w</string>\n', '<resources xmlns:tools="urn:t">'
    )


def test_keys_without_a_source_element_are_appended() -> None:
    target = parse(doc('    <string name="a">a</string>\n'))
    out = render({"a": "a", "zz": "z", "q/#one": "q1"}, parse(SOURCE), target)
    assert parse(out).entries == {"a": "a", "zz": "z", "q/#one": "q1"}
    assert out.decode().index('name="zz"') > out.decode().index('name="a"')


def test_leaves_are_coerced_to_strings() -> None:
    source = parse(doc('    <string name="a">A</string>\n    <string name="b">B</string>\n'))
    out = FMT.render({"a": 3, "b": None}, source=source, target=source)
    assert parse(out).entries == {"a": "3"}


@pytest.mark.parametrize("key", ["a/b/c", "a/x"])
def test_keys_that_cannot_be_android_resources_are_rejected(key: str) -> None:
    source = parse(SOURCE)
    with pytest.raises(ValueError):
        render({key: "x"}, source, source)


def test_string_key_with_plural_parts_is_rejected() -> None:
    source = parse(SOURCE)
    with pytest.raises(ValueError):
        render({"a/#one": "x"}, source, parse(doc("")))


# --- the shared corpus ------------------------------------------------------------------------

PAIRS = [
    ("antennapod/values/strings.xml", "antennapod/values-de/strings.xml", "de"),
    ("antennapod/values/strings.xml", "antennapod/values-ar/strings.xml", "ar"),
    ("antennapod/values/strings.xml", "antennapod/values-ko/strings.xml", "ko"),
    ("catima/values/strings.xml", "catima/values-de/strings.xml", "de"),
    ("catima/values/strings.xml", "catima/values-ar/strings.xml", "ar"),
    ("mastodon-android/values/strings.xml", "mastodon-android/values-de-rDE/strings.xml", "de-DE"),
]


@pytest.mark.parametrize(("source_path", "target_path", "locale"), PAIRS)
def test_corpus_new_target_from_source_layout_parses_back(source_path: str, target_path: str, locale: str) -> None:
    source, target = parse(corpus(source_path)), parse(corpus(target_path), locale)
    values = {k: v for k, v in target.entries.items() if k in source.entries}
    out = FMT.render(values, source=source, target=None, locale=locale)
    assert parse(out, locale).entries == values
    assert out.startswith(corpus(source_path)[:38])  # the XML declaration and root tag of the source


@pytest.mark.parametrize(("source_path", "target_path", "locale"), PAIRS)
def test_corpus_sync_adds_and_removes_only_what_changed(source_path: str, target_path: str, locale: str) -> None:
    source, target = parse(corpus(source_path)), parse(corpus(target_path), locale)
    values = {k: str(target.entries.get(k, f"NEW {v}")) for k, v in source.entries.items()}
    out = FMT.render(values, source=source, target=target, locale=locale)
    assert parse(out, locale).entries == values
    added = len(set(values) - set(target.entries))
    removed = len(set(target.entries) - set(values))
    plural_lines = 4 * sum(1 for k in set(values) - set(target.entries) if "/#" in k)  # element open/close
    assert len(diff(corpus(target_path), out)) <= added + removed + plural_lines


def test_corpus_mastodon_keeps_no_final_newline() -> None:
    data = corpus("mastodon-android/values/strings.xml")
    source = parse(data)
    values = dict(source.entries)
    last = list(values)[-1]
    values[last] = "Changed"
    out = FMT.render(values, source=source, target=source)
    assert not out.endswith(b"\n") and out.endswith(b"</resources>")
    assert len(diff(data, out)) == 2


def test_corpus_termux_entities_and_multiline_values() -> None:
    source = parse(corpus("termux/values/strings.xml"))
    assert source.entries["application_name"] == "&TERMUX_APP_NAME;"
    assert source.entries["permission_run_command_description"] == (
        "execute arbitrary commands within &TERMUX_APP_NAME; environment and access files"
    )


def test_corpus_korean_cdata_is_rewritten_as_cdata() -> None:
    data = corpus("antennapod/values-ko/strings.xml")
    target = parse(data, "ko")
    value = target.entries["synchronization_login_status"]
    assert isinstance(value, str) and value.startswith("<i>%1$s</i>")
    out = FMT.render(
        dict(target.entries, synchronization_login_status="<i>%1$s</i> 새 값"), source=target, target=target
    )
    assert (
        diff(data, out)[1] == '+    <string name="synchronization_login_status"><![CDATA[<i>%1$s</i> 새 값]]></string>'
    )


def test_corpus_antennapod_source_quirks() -> None:
    source = parse(corpus("antennapod/values/strings.xml"))
    assert source.entries["gpodnetsync_error_descr"] == "An error occurred during syncing: "
    assert "provider_authority" not in source.entries  # translatable="false"
    assert source.entries["import_export_pref"] == "Backup & restore"
    arrays = parse(corpus("antennapod/values/arrays.xml"))
    assert not any(
        k.startswith(("spnAutoDeleteItems/", "spnAutoDeleteValues/", "seek_delta_values/")) for k in arrays.entries
    )


def test_parse_reads_the_locale_argument_without_needing_it() -> None:
    assert parse(SAMPLE, "de").entries == parse(SAMPLE).entries
