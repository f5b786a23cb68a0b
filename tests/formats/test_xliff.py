"""XliffFormat: 1.2 and 2.0 keys and values, target/source sides, states, and byte-exact splicing."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import ParsedFile
from daemon.formats.xliff import XliffFormat, same_locale
from tests.formats.contract import FormatContract
from tests.formats.pairs import diff_lines as diff
from tests.formats.pairs import read_corpus

FMT = XliffFormat()
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def v12(units: str, file_attrs: str = 'source-language="en" target-language="de"') -> bytes:
    """An XLIFF 1.2 document whose body holds ``units`` (lines indented by 6 spaces)."""
    return (
        f'{DECL}<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
        f'  <file {file_attrs} datatype="plaintext" original="ng2.template">\n'
        f"    <body>\n{units}    </body>\n  </file>\n</xliff>\n"
    ).encode()


def unit(uid: str, source: str, target: str | None = None, target_tag: str = "<target>") -> str:
    lines = f'      <trans-unit id="{uid}" datatype="html">\n        <source>{source}</source>\n'
    if target is not None:
        lines += f"        {target_tag}{target}</target>\n"
    return lines + "      </trans-unit>\n"


def v20(units: str, root_attrs: str = 'srcLang="en" trgLang="de"') -> bytes:
    return (
        f'<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" {root_attrs}>\n'
        f'  <file id="f1">\n{units}  </file>\n</xliff>\n'
    ).encode()


def unit20(uid: str, source: str, target: str | None = None, state: str = "") -> str:
    segment = f' state="{state}"' if state else ""
    lines = f'    <unit id="{uid}">\n      <segment{segment}>\n        <source>{source}</source>\n'
    if target is not None:
        lines += f"        <target>{target}</target>\n"
    return lines + "      </segment>\n    </unit>\n"


def parse(data: bytes, locale: str | None = None) -> ParsedFile:
    return FMT.parse(data, path="messages.xlf", locale=locale)


def error(data: bytes) -> FormatError:
    with pytest.raises(FormatError) as info:
        parse(data)
    return info.value


def render(values: dict[str, str], source: ParsedFile, target: ParsedFile | None, locale: str | None = "de") -> bytes:
    return FMT.render(values, source=source, target=target, locale=locale)


@functools.cache
def corpus_bytes(path: str) -> bytes:
    return read_corpus(f"xliff/{path}")


@functools.cache
def corpus(path: str, locale: str | None) -> ParsedFile:
    """Parsed corpus files, shared between tests (the Angular files are 1.2-1.4 MB)."""
    return parse(corpus_bytes(path), locale)


SAMPLE = v12(
    unit(
        "greeting",
        'Hello <x id="INTERPOLATION" equiv-text="{{ name }}"/>!',
        'Hallo <x id="INTERPOLATION" equiv-text="{{ name }}"/>!',
    )
    + unit(
        "count", "{VAR_PLURAL, plural, =1 {one item} other {many}}", "{VAR_PLURAL, plural, =1 {ein Ding} other {viele}}"
    )
    + unit("quote", "Don't &amp; won't", "Nicht &amp; nie")
)

SAMPLE_20 = v20(unit20("1", "Quetzal", "Quetzal") + unit20("2", 'foo <ph id="1"/>', 'XLIFF <ph id="1"/> bar'))


class TestXliffContract(FormatContract):
    format_name = "xliff"
    corpus_dirs = ("xliff",)
    corpus_suffixes = (".xlf", ".xliff")
    sample = SAMPLE


# --- registry, versions and keys ----------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_format("xliff"), XliffFormat)
    assert XliffFormat.extensions == (".xlf", ".xliff")


def test_xliff_1_2_keys_and_target_values() -> None:
    assert parse(SAMPLE).entries == {
        "greeting": 'Hallo <x id="INTERPOLATION" equiv-text="{{ name }}"/>!',
        "count": "{VAR_PLURAL, plural, =1 {ein Ding} other {viele}}",
        "quote": "Nicht & nie",
    }


def test_xliff_2_0_keys_groups_and_segments() -> None:
    data = v20(
        '    <group id="g">\n' + unit20("in-group", "a", "A") + "    </group>\n"
        '    <unit id="multi">\n'
        '      <segment id="s1"><source>x</source><target>X</target></segment>\n'
        "      <segment><source>y</source><target>Y</target></segment>\n"
        "    </unit>\n"
    )
    assert parse(data).entries == {"in-group": "A", "multi/s1": "X", "multi/1": "Y"}


def test_several_files_prefix_keys_with_the_file() -> None:
    data = (
        b'<xliff version="1.2"><file original="a.html" source-language="en" target-language="de"><body>'
        b'<trans-unit id="1"><source>x</source><target>X</target></trans-unit></body></file>'
        b'<file original="b/c.html" source-language="en" target-language="de"><body>'
        b'<trans-unit id="1"><source>y</source><target>Y</target></trans-unit></body></file></xliff>'
    )
    assert parse(data).entries == {"a.html/1": "X", "b~1c.html/1": "Y"}


def test_translate_no_units_are_not_entries() -> None:
    data = v12(
        '      <trans-unit id="a" translate="no"><source>x</source><target>X</target></trans-unit>\n'
        + unit("b", "y", "Y")
    )
    assert parse(data).entries == {"b": "Y"}


# --- which side is read ---------------------------------------------------------------------------


def test_side_follows_the_locale() -> None:
    data = v12(unit("a", "Source", "Ziel"))
    assert parse(data, "de").entries == {"a": "Ziel"}
    assert parse(data, "de-DE").entries == {"a": "Ziel"}
    assert parse(data, "en").entries == {"a": "Source"}
    assert parse(data, "fr").entries == {"a": "Ziel"}  # the file is not the source locale's
    assert parse(data).entries == {"a": "Ziel"}


def test_a_file_without_targets_is_read_for_its_sources() -> None:
    data = v12(unit("a", "Source"), file_attrs='source-language="en"')
    assert parse(data).entries == {"a": "Source"}
    assert parse(data, "en").entries == {"a": "Source"}
    assert parse(data, "de").entries == {}


@pytest.mark.parametrize(
    "target",
    [
        "<target></target>",
        "<target/>",
        '<target state="new">Source</target>',
        '<target state="needs-translation">S</target>',
    ],
)
def test_untranslated_targets_are_absent(target: str) -> None:
    data = v12(f'      <trans-unit id="a">\n        <source>Source</source>\n        {target}\n      </trans-unit>\n')
    assert parse(data, "de").entries == {}


def test_xliff_2_initial_segment_is_absent() -> None:
    assert parse(v20(unit20("a", "x", "x", state="initial") + unit20("b", "y", "Y", state="final"))).entries == {
        "b": "Y"
    }


def test_same_locale() -> None:
    assert same_locale("de", "de-DE") and same_locale("pt_BR", "pt-br") and same_locale("DE", "de")
    assert not same_locale("de-AT", "de-CH") and not same_locale("de", "dev")


# --- values -------------------------------------------------------------------------------------


def test_values_unescape_text_and_keep_inline_elements_verbatim() -> None:
    content = 'A &lt;b&gt; &apos;q&apos; &#xA;<g id="1">x &amp; y</g><![CDATA[<raw>]]><x id="2" equiv-text="a &gt; b"/>'
    assert parse(v12(unit("a", "s", content))).entries["a"] == (
        'A <b> \'q\' \n<g id="1">x & y</g><raw><x id="2" equiv-text="a &gt; b"/>'
    )


def test_crlf_inside_values_reads_as_newline() -> None:
    data = v12(unit("a", "s", "two\r\nlines")).replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
    assert parse(data).entries == {"a": "two\nlines"}


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "column", "detail"),
    [
        (b"", 1, 1, "no element found"),
        (b'<xliff version="1.2">\n  <file>\n</xliff>', 3, 3, "mismatched tag"),
        (DECL.encode() + b"<resources/>", 2, 1, "root element must be <xliff>"),
        (v12("      <trans-unit><source>x</source></trans-unit>\n"), 5, 7, "no id"),
        (v12('      <trans-unit id="a"><target>x</target></trans-unit>\n'), 5, 7, "no <source>"),
        (v12(unit("a", "x") + unit("a", "y")), 8, 7, "duplicate id"),
        (DECL.encode() + b'<!DOCTYPE x [<!ENTITY a SYSTEM "http://x">]><xliff/>', 2, 14, "external entity"),
    ],
)
def test_errors(data: bytes, line: int, column: int, detail: str) -> None:
    err = error(data)
    assert (err.path, err.line, err.column) == ("messages.xlf", line, column)
    assert detail in err.detail


# --- rendering existing targets -----------------------------------------------------------------


def test_unchanged_values_give_the_target_bytes() -> None:
    target = parse(SAMPLE)
    assert render(dict(target.entries), parse(SAMPLE), target) == SAMPLE


def test_a_changed_target_changes_only_its_line_and_state() -> None:
    data = v12(unit("a", "A", "alt", target_tag='<target state="needs-review-translation">') + unit("b", "B", "b"))
    target = parse(data)
    out = render({"a": "neu", "b": "b"}, target, target)
    assert diff(data, out) == [
        '-        <target state="needs-review-translation">alt</target>',
        '+        <target state="translated">neu</target>',
    ]


def test_inline_elements_are_markup_and_other_tags_text() -> None:
    target = parse(SAMPLE)
    value = 'Hi <x id="INTERPOLATION" equiv-text="{{ name }}"/> <b>&</b> <g id="1">x</g>'
    out = render(dict(target.entries, greeting=value), target, target)
    assert (
        '<target>Hi <x id="INTERPOLATION" equiv-text="{{ name }}"/> &lt;b&gt;&amp;&lt;/b&gt; <g id="1">x</g></target>'
        in out.decode()
        or (
            '<target>Hi <x id="INTERPOLATION" equiv-text="{{ name }}"/> &lt;b>&amp;&lt;/b> <g id="1">x</g></target>'
            in out.decode()
        )
    )
    assert parse(out).entries["greeting"] == value


def test_unbalanced_inline_elements_are_written_as_text() -> None:
    target = parse(SAMPLE)
    out = render(dict(target.entries, greeting='<g id="1">open'), target, target)
    assert '<target>&lt;g id="1">open</target>' in out.decode()
    assert parse(out).entries["greeting"] == '<g id="1">open'


def test_escaping_follows_the_files_style() -> None:
    styled = v12(unit("a", "s", "it&apos;s &quot;x&quot; &gt;") + unit("b", "s", "b"))
    out = render({"a": "it's", "b": "'q' \"d\" >"}, parse(styled), parse(styled))
    assert "<target>&apos;q&apos; &quot;d&quot; &gt;</target>" in out.decode()
    plain = v12(unit("a", "s", "it's") + unit("b", "s", "b"))
    out = render({"a": "it's", "b": "'q' \"d\" > ]]>"}, parse(plain), parse(plain))
    assert "<target>'q' \"d\" > ]]&gt;</target>" in out.decode()


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n\r"),
        min_size=1,
        max_size=40,
    )
)
def test_any_value_reads_back_exactly(value: str) -> None:
    target = parse(v12(unit("a", "s", "old") + unit("b", "s", "<![CDATA[old]]>")))
    out = render({"a": value, "b": value}, target, target)
    assert parse(out).entries == {"a": value, "b": value}


def test_characters_xml_cannot_carry_are_dropped() -> None:
    target = parse(v12(unit("a", "s", "old")))
    assert parse(render({"a": "bell\x07!"}, target, target)).entries == {"a": "bell!"}


def test_missing_target_is_inserted_after_source() -> None:
    data = v12(unit("a", "A", "a") + unit("b", "B"))
    out = render({"a": "a", "b": "b"}, parse(data), parse(data, "de"))
    assert diff(data, out) == ["+        <target>b</target>"]


def test_inserted_target_gets_a_state_when_the_file_uses_states() -> None:
    data = v12(unit("a", "A", "a", target_tag='<target state="final">') + unit("b", "B"))
    out = render({"a": "a", "b": "b"}, parse(data), parse(data, "de"))
    assert diff(data, out) == ['+        <target state="translated">b</target>']


def test_target_after_seg_source_and_on_the_same_line() -> None:
    data = v12(
        '      <trans-unit id="a">\n        <source>A</source>\n        <seg-source>A</seg-source>\n      </trans-unit>\n'
        '      <trans-unit id="b"><source>B</source></trans-unit>\n'
    )
    out = render({"a": "x", "b": "y"}, parse(data), parse(data, "de"))
    assert "<seg-source>A</seg-source>\n        <target>x</target>\n" in out.decode()
    assert '<trans-unit id="b"><source>B</source><target>y</target></trans-unit>' in out.decode()


def test_self_closing_target_gets_content() -> None:
    data = v12('      <trans-unit id="a"><source>A</source><target state="new"/></trans-unit>\n')
    out = render({"a": "x"}, parse(data), parse(data, "de"))
    assert '<trans-unit id="a"><source>A</source><target state="translated">x</target></trans-unit>' in out.decode()


def test_xliff_2_insertion_and_segment_state() -> None:
    data = v20(unit20("1", "a", "A", state="reviewed") + unit20("2", "b", state="initial"))
    out = render({"1": "A2", "2": "B"}, parse(data), parse(data))
    assert parse(out).entries == {"1": "A2", "2": "B"}
    assert out.decode().count('<segment state="translated">') == 2
    assert "<source>b</source>\n        <target>B</target>\n" in out.decode()


def test_dropped_translation_loses_its_target() -> None:
    data = v12(unit("a", "A", "a") + unit("b", "B", "b"))
    out = render({"a": "a"}, parse(data), parse(data))
    assert diff(data, out) == ["-        <target>b</target>"]
    data20 = v20(unit20("1", "a", "A", state="translated"))
    out = render({}, parse(data20), parse(data20))
    assert "<target>" not in out.decode() and '<segment state="initial">' in out.decode()


def test_empty_value_means_no_target() -> None:
    data = v12(unit("a", "A", "a"))
    assert "<target>" not in render({"a": ""}, parse(data), parse(data)).decode()


def test_unit_the_source_no_longer_has_is_removed() -> None:
    source = parse(v12(unit("a", "A")), "en")
    target = parse(v12(unit("a", "A", "a") + unit("gone", "G", "g")))
    assert render({"a": "a"}, source, target) == v12(unit("a", "A", "a"))


def test_new_units_are_copied_from_the_source_after_their_predecessor() -> None:
    source = parse(v12(unit("a", "A") + unit("b", 'B <x id="1"/>') + unit("c", "C")), "en")
    target = parse(v12(unit("a", "A", "a") + unit("c", "C", "c")), "de")
    out = render({"a": "a", "b": 'b <x id="1"/>', "c": "c"}, source, target)
    assert out == v12(unit("a", "A", "a") + unit("b", 'B <x id="1"/>', 'b <x id="1"/>') + unit("c", "C", "c"))


def test_new_unit_copies_drop_the_sources_own_targets() -> None:
    source = parse(
        v12(unit("a", "A", "A-en") + unit("b", "B", "B-en"), 'source-language="en" target-language="en"'), "en"
    )
    target = parse(v12(unit("a", "A", "a")), "de")
    assert render({"a": "a", "b": "b"}, source, target) == v12(unit("a", "A", "a") + unit("b", "B", "b"))
    assert render({"a": "a"}, source, parse(v12(""), "de")) == v12(unit("a", "A", "a"))


def test_stale_source_text_is_refreshed_with_the_translation() -> None:
    source = parse(v12(unit("a", "New text")), "en")
    target = parse(v12(unit("a", "Old text", "Alter Text")), "de")
    out = render({"a": "Neuer Text"}, source, target)
    assert out == v12(unit("a", "New text", "Neuer Text"))


def test_keys_without_any_unit_get_a_new_one() -> None:
    target = parse(v12(unit("a", "A", "a")), "de")
    out = render({"a": "a", "new.key": "new", "x~1y": "slash"}, parse(v12(unit("a", "A")), "en"), target)
    assert parse(out, "de").entries == {"a": "a", "new.key": "new", "x~1y": "slash"}
    assert (
        '      <trans-unit id="new.key">\n        <source></source>\n        <target>new</target>\n      </trans-unit>\n'
        in out.decode()
    )
    out20 = render({"n": "N"}, parse(v20(""), "en"), None)
    assert parse(out20, "de").entries == {"n": "N"}


def test_keys_that_cannot_be_unit_ids_are_rejected() -> None:
    target = parse(v12(unit("a", "A", "a")), "de")
    with pytest.raises(ValueError, match="not a unit id"):
        render({"x/y": "new"}, target, target)
    no_translate = parse(v12('      <trans-unit id="n" translate="no"><source>N</source></trans-unit>\n'), "de")
    with pytest.raises(ValueError, match="translate"):
        render({"n": "x"}, no_translate, no_translate)


def test_keys_of_a_multi_file_document_name_their_file() -> None:
    data = (
        b'<xliff version="1.2">\n  <file original="a" source-language="en" target-language="de">\n    <body>\n'
        b'      <trans-unit id="1"><source>x</source><target>X</target></trans-unit>\n    </body>\n  </file>\n'
        b'  <file original="b" source-language="en" target-language="de">\n    <body>\n    </body>\n  </file>\n</xliff>\n'
    )
    target = parse(data)
    out = render({"a/1": "X", "b/2": "Y"}, target, target)
    assert parse(out).entries == {"a/1": "X", "b/2": "Y"}
    with pytest.raises(ValueError, match="not a unit id"):
        render({"2": "Y"}, target, target)


# --- new target files ------------------------------------------------------------------------------


def test_new_target_file_from_an_angular_style_source() -> None:
    source_data = v12(unit("a", "A") + unit("b", "B"), file_attrs='source-language="en"')
    out = render({"a": "x"}, parse(source_data, "en"), None, locale="fr")
    assert out == v12(unit("a", "A", "x") + unit("b", "B"), file_attrs='source-language="en" target-language="fr"')
    assert parse(out, "fr").entries == {"a": "x"}


def test_new_target_file_from_a_source_with_targets() -> None:
    source = parse(
        v12(unit("a", "A", "A-en") + unit("b", "B", "B-en"), 'source-language="en" target-language="en"'), "en"
    )
    out = render({"b": "B-fr"}, source, None, locale="fr")
    assert out == v12(unit("a", "A") + unit("b", "B", "B-fr"), 'source-language="en" target-language="fr"')


def test_new_xliff_2_target_sets_trglang() -> None:
    source = parse(v20(unit20("1", "a", "a-en"), 'srcLang="en" trgLang="en"'), "en")
    out = render({"1": "a-ja"}, source, None, locale="ja")
    assert out == v20(unit20("1", "a", "a-ja"), 'srcLang="en" trgLang="ja"')


def test_existing_target_without_a_language_gets_one_when_written() -> None:
    data = v12(unit("a", "A"), file_attrs='source-language="en"')
    out = render({"a": "x"}, parse(data, "en"), parse(data, "de"))
    assert b'<file source-language="en" target-language="de" datatype' in out


def test_a_sources_only_file_is_rendered_by_editing_sources() -> None:
    data = v12(unit("a", "A") + unit("b", "B"), file_attrs='source-language="en"')
    parsed = parse(data)
    out = render({"a": "A2"}, parsed, parsed, locale=None)
    assert out == v12(unit("a", "A2"), file_attrs='source-language="en"')


# --- the shared corpus -----------------------------------------------------------------------------

PAIRS = [
    ("ghostfolio/messages.xlf", "ghostfolio/messages.de.xlf", "de"),
    ("orcid-angular/messages.xlf", "orcid-angular/messages.de.xlf", "de"),
    ("symfony/validators.en.xlf", "symfony/validators.de.xlf", "de"),
    ("symfony/validators.en.xlf", "symfony/validators.ar.xlf", "ar"),
]


@pytest.mark.parametrize(("source_path", "target_path", "locale"), PAIRS)
def test_corpus_new_target_from_source_layout_parses_back(source_path: str, target_path: str, locale: str) -> None:
    source, target = corpus(source_path, "en"), corpus(target_path, locale)
    values = {k: str(v) for k, v in target.entries.items() if k in source.entries}
    out = render(values, source, None, locale=locale)
    assert parse(out, locale).entries == values


@pytest.mark.parametrize(("source_path", "target_path", "locale"), PAIRS)
def test_corpus_sync_changes_only_new_and_dropped_units(source_path: str, target_path: str, locale: str) -> None:
    source, target = corpus(source_path, "en"), corpus(target_path, locale)
    values = {k: str(target.entries.get(k, f"NEW {v}")) for k, v in source.entries.items()}
    out = render(values, source, target, locale=locale)
    assert parse(out, locale).entries == values
    if set(values) == set(target.entries):
        assert out == corpus_bytes(target_path)


def test_corpus_symfony_untranslated_targets_are_absent() -> None:
    arabic = corpus("symfony/validators.ar.xlf", "ar")
    english = corpus("symfony/validators.en.xlf", "en")
    missing = set(english.entries) - set(arabic.entries)
    assert len(missing) == 6
    out = render(dict(arabic.entries, **{k: "ترجمة" for k in missing}), english, arabic, locale="ar")
    assert len(diff(corpus_bytes("symfony/validators.ar.xlf"), out)) == 12
    assert b'state="needs-translation"' not in out


def test_corpus_orcid_keeps_declaration_line_and_no_final_newline() -> None:
    target = corpus("orcid-angular/messages.de.xlf", "de")
    data = corpus_bytes("orcid-angular/messages.de.xlf")
    key = next(iter(target.entries))
    out = render(dict(target.entries, **{key: "Geändert"}), target, target)
    assert out.startswith(b'<?xml version="1.0" ?><xliff') and not out.endswith(b"\n")
    assert len(diff(data, out)) == 2


def test_corpus_ghostfolio_icu_and_placeholders_are_verbatim() -> None:
    source = corpus("ghostfolio/messages.xlf", "en")
    values = [v for v in source.entries.values() if isinstance(v, str)]
    assert any('<x id="INTERPOLATION" equiv-text="' in v for v in values)
    assert any(v.startswith("{VAR_PLURAL, plural,") for v in values)
    assert any("&gt;" in v and "equiv-text" in v for v in values)  # attribute text stays escaped


def test_corpus_orcid_source_is_read_for_sources() -> None:
    assert corpus("orcid-angular/messages.xlf", "en").entries["register.password"] == "Password"
