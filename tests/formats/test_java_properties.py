"""JavaPropertiesFormat: the contract, ``Properties.load`` rules, encodings, errors, and rendering.

The reading rules were checked against ``java.util.Properties.load`` of OpenJDK 17 on the
corpus and on a few thousand random files; the cases below pin the behaviour found there.
"""

from __future__ import annotations

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.java_properties import JavaPropertiesFormat
from tests.formats.contract import FormatContract
from tests.formats.pairs import diff_lines as diff
from tests.formats.pairs import parse_corpus

FMT = JavaPropertiesFormat()


class TestJavaPropertiesContract(FormatContract):
    format_name = "properties"
    corpus_dirs = ("java-properties",)
    corpus_suffixes = (".properties",)
    sample = (
        b"# Messages\n"
        b"greeting=Hello {0}\n"
        b"farewell : Goodbye\n"
        b"long.text=First part \\\n"
        b"    second part\n"
        b"My\\ Views=My views\n"
    )


def parse(data: bytes | str) -> ParsedFile:
    return FMT.parse(data.encode() if isinstance(data, str) else data, path="Messages.properties")


def render(values: dict[str, Leaf], source: ParsedFile, target: ParsedFile | None) -> bytes:
    return FMT.render(values, source=source, target=target)


def corpus(name: str) -> ParsedFile:
    return parse_corpus(FMT, f"java-properties/{name}")


# --- reading --------------------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_format("properties"), JavaPropertiesFormat)


def test_separators_whitespace_and_comments() -> None:
    parsed = parse("# c\n! c\n  a=1\nb : 2\nc 3\nd\t=  4  \ne=\nf\n  \n\\#g=5\n")
    assert parsed.entries == {"a": "1", "b": "2", "c": "3", "d": "4  ", "e": "", "f": "", "#g": "5"}


def test_key_ends_at_first_unescaped_separator() -> None:
    parsed = parse("a\\=b=c=d\nx\\:y:z\nsp\\ ace = v\n")
    assert parsed.entries == {"a=b": "c=d", "x:y": "z", "sp ace": "v"}


def test_whitespace_then_separator_is_one_separator() -> None:
    assert parse("k   =   v\nj : : w\n").entries == {"k": "v", "j": ": w"}


def test_escapes() -> None:
    parsed = parse("k=tab\\t nl\\n cr\\r ff\\f \\u00e9 \\q \\\\ end\nlead=\\  x\nemoji=\\uD83D\\uDE00\n")
    assert parsed.entries == {"k": "tab\t nl\n cr\r ff\f \u00e9 q \\ end", "lead": "  x", "emoji": "\U0001f600"}


def test_continuation_lines_drop_leading_whitespace_and_ignore_comment_markers() -> None:
    parsed = parse("k=one \\\n    two\\\n\t# not a comment\nj=\\\n  starts below\n")
    assert parsed.entries == {"k": "one two# not a comment", "j": "starts below"}


def test_even_backslashes_do_not_continue() -> None:
    assert parse("k=a\\\\\nj=b\n").entries == {"k": "a\\", "j": "b"}


def test_comment_lines_never_continue() -> None:
    assert parse("# comment \\\nk=v\n").entries == {"k": "v"}


def test_a_continued_line_that_ends_in_a_blank_line_ends_there() -> None:
    assert parse("k=a\\\n\nj=b\n").entries == {"k": "a", "j": "b"}


def test_a_lone_backslash_line_is_nothing_but_an_empty_property_at_the_end() -> None:
    # java.util.Properties reads the line after a lone "\" afresh, comment markers included
    assert parse("\\\n# comment\nk=v\n").entries == {"k": "v"}
    assert parse("k=v\n\\\n").entries == {"k": "v", "": ""}


def test_cr_and_crlf_line_endings() -> None:
    assert parse("a=1\rb=2\r\nc=3\\\r\n  4\n").entries == {"a": "1", "b": "2", "c": "34"}


def test_repeated_key_keeps_the_last_value() -> None:
    parsed = parse("k=1\nj=2\nk=3\n")
    assert parsed.entries == {"j": "2", "k": "3"}
    assert render({"j": "2", "k": "4"}, parsed, parsed) == b"k=1\nj=2\nk=4\n"
    assert render({"j": "2"}, parsed, parsed) == b"j=2\n"


def test_slash_in_a_key_is_escaped_not_nested() -> None:
    parsed = parse("%0/%1\\ entries=%0/%1 entries\n")
    assert parsed.entries == {"%0~1%1 entries": "%0/%1 entries"}


def test_malformed_unicode_escape_is_the_one_syntax_error() -> None:
    with pytest.raises(FormatError) as info:
        parse("a=1\nb = x\\u12G4\n")
    assert (info.value.line, info.value.column) == (2, 6)
    with pytest.raises(FormatError) as info:
        parse("a=1\nb=\\\n   \\u12")
    assert (info.value.line, info.value.column) == (3, 4)


# --- encodings ------------------------------------------------------------------------------


def test_latin1_file_is_read_and_written_as_latin1() -> None:
    data = "# Français\nStatus=Statut\ndelete=Êtes-vous sûr?\n".encode("iso-8859-1")
    parsed = parse(data)
    assert parsed.entries["delete"] == "Êtes-vous sûr?"
    out = render({"Status": "État", "delete": "Supprimer € 😀"}, parsed, parsed)
    assert out == "# Français\nStatus=État\ndelete=Supprimer \\u20AC \\uD83D\\uDE00\n".encode("iso-8859-1")
    assert parse(out).entries == {"Status": "État", "delete": "Supprimer € 😀"}


def test_utf8_is_preferred_and_written_raw() -> None:
    parsed = parse("k=Grüße\n".encode())
    assert render({"k": "Tschüss 😀"}, parsed, parsed) == "k=Tschüss 😀\n".encode()


def test_ascii_file_with_unicode_escapes_keeps_escaping() -> None:
    parsed = parse(b"a=caf\\u00e9\nb=x\n")
    assert render({"a": "café", "b": "naïve"}, parsed, parsed) == b"a=caf\\u00e9\nb=na\\u00EFve\n"


def test_utf8_bom_and_crlf_are_kept() -> None:
    data = b"\xef\xbb\xbfa=1\r\nb=2\r\n"
    parsed = parse(data)
    assert parsed.entries == {"a": "1", "b": "2"}
    assert render({"a": "1", "b": "3", "c": "4"}, parsed, parsed) == b"\xef\xbb\xbfa=1\r\nb=3\r\nc=4\r\n"


# --- writing --------------------------------------------------------------------------------


def test_changed_value_keeps_the_separator_style() -> None:
    parsed = parse("Util.hour  ={0} hr\nb : x\nc y\n")
    out = render({"Util.hour": "{0} h", "b": "z", "c": "w"}, parsed, parsed)
    assert out == b"Util.hour  ={0} h\nb : z\nc w\n"


def test_values_are_escaped_as_little_as_java_needs() -> None:
    parsed = parse("k=v\nj v\n")
    out = render({"k": "  lead\\tab\tnl\n=:#! \x01", "j": ":starts with a colon"}, parsed, parsed)
    assert out == b"k=\\  lead\\\\tab\\tnl\\n=:#! \\u0001\nj \\:starts with a colon\n"
    assert parse(out).entries == {"k": "  lead\\tab\tnl\n=:#! \x01", "j": ":starts with a colon"}


def test_changed_continued_value_keeps_its_first_line() -> None:
    parsed = parse("k=\\\n  old first \\\n  old second\nnext=n\n")
    assert render({"k": "new", "next": "n"}, parsed, parsed) == b"k=\\\n  new\nnext=n\n"


def test_deleted_entry_takes_its_continuation_lines_and_one_blank_line() -> None:
    parsed = parse("a=1\n\nb=2 \\\n  more\n\nc=3\n")
    assert render({"a": "1", "c": "3"}, parsed, parsed) == b"a=1\n\nc=3\n"


def test_deleting_the_last_line_without_newline_keeps_no_final_newline() -> None:
    parsed = parse("a=1\nb=2")
    assert render({"a": "1"}, parsed, parsed) == b"a=1"


def test_new_key_copies_the_source_key_and_separator_in_source_order() -> None:
    source = parse("a = A\nMy\\ Views = Views\nUtil.day   ={0} days\nz = Z\n")
    target = parse("a = Ah\nz = Zed\n")
    out = render({"a": "Ah", "My Views": "Vues", "Util.day": "{0} jours", "z": "Zed"}, source, target)
    assert out == b"a = Ah\nMy\\ Views = Vues\nUtil.day   ={0} jours\nz = Zed\n"


def test_new_first_key_and_key_after_a_last_line_without_newline() -> None:
    source = parse("first=1\nmid=2\nlast=3")
    target = parse("mid=m")
    assert render({"first": "f", "mid": "m", "last": "l"}, source, target) == b"first=f\nmid=m\nlast=l"


def test_new_key_with_continued_source_layout_copies_it() -> None:
    source = parse("k=\\\n  Some text\n")
    target = parse("other=x\n")
    assert render({"other": "x", "k": "Texte"}, source, target) == b"k=\\\n  Texte\nother=x\n"


def test_key_not_in_source_is_escaped() -> None:
    parsed = parse("a=1\n")
    out = render({"a": "1", "#odd key=:": "v"}, parsed, parsed)
    assert out == b"a=1\n\\#odd\\ key\\=\\:=v\n"
    assert parse(out).entries == {"a": "1", "#odd key=:": "v"}


def test_source_key_that_the_target_encoding_cannot_hold_is_escaped() -> None:
    source = parse("Grüße € = x\n".encode())
    target = parse("a=b\n".encode("iso-8859-1") + b"\xe9=e\n")  # not UTF-8: Latin-1
    out = render({"a": "b", "é": "e", "Grüße €": "y"}, source, target)
    assert out == b"a=b\n\xe9=e\nGr\xfc\xdfe\\ \\u20AC=y\n"


def test_all_keys_replaced() -> None:
    source = parse("n=N\n")
    target = parse("# header\nold=O\n")
    assert render({"n": "new"}, source, target) == b"# header\nn=new\n"
    assert render({"n": "new"}, source, parse(b"")) == b"n=new\n"


def test_new_target_is_the_source_layout_with_the_new_values() -> None:
    source = parse("# License\n\ngreeting=Hello\nlong=a \\\n   b\n")
    assert render({"greeting": "Bonjour", "long": "c"}, source, None) == b"# License\n\ngreeting=Bonjour\nlong=c\n"


def test_non_string_leaves_are_written_as_text() -> None:
    parsed = parse("a=x\nb=y\nc=z\n")
    assert parse(render({"a": 3, "b": False, "c": None}, parsed, parsed)).entries == {"a": "3", "b": "false", "c": ""}


# --- real source/target pairs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_name", "target_name"),
    [
        ("jenkins/hudson/Messages.properties", "jenkins/hudson/Messages_de.properties"),
        ("jenkins/hudson/model/User/sidepanel.properties", "jenkins/hudson/model/User/sidepanel_fr.properties"),
        ("jabref/JabRef_en.properties", "jabref/JabRef_ja.properties"),
        ("openfire/openfire_i18n.properties", "openfire/openfire_i18n_de.properties"),
    ],
)
def test_corpus_pair_renders_and_parses_back(source_name: str, target_name: str) -> None:
    source, target = corpus(source_name), corpus(target_name)
    assert render(dict(target.entries), source, target) == target.raw
    values = dict(target.entries)
    missing = [k for k in source.entries if k not in values][:3]
    for key in missing:
        values[key] = f"Übersetzt € {source.entries[key]}"
    gone = list(target.entries)[:2]
    for key in gone:
        del values[key]
    out = render(values, source, target)
    assert FMT.parse(out, path="out").entries == values
    new = render(values, source, None)
    assert FMT.parse(new, path="new").entries == {k: v for k, v in values.items()}


def test_corpus_latin1_target_stays_latin1() -> None:
    source = corpus("jenkins/hudson/model/User/sidepanel.properties")
    target = corpus("jenkins/hudson/model/User/sidepanel_fr.properties")
    values = dict(target.entries)
    values["Status"] = "État €"
    out = render(values, source, target)
    assert diff(target.raw, out, "iso-8859-1") == ["-Status=Statut", "+Status=\xc9tat \\u20AC"]


def test_corpus_single_line_source_without_newline() -> None:
    source = corpus("jenkins/hudson/model/User/sidepanel.properties")
    assert list(source.entries) == ["delete.user"]
    out = render({"delete.user": "Supprimer {0}?"}, source, None)
    assert out == b"delete.user=Supprimer {0}?"


def test_corpus_continued_value_change_keeps_the_layout_before_it() -> None:
    source = corpus("jenkins/hudson/Messages.properties")
    values = dict(source.entries)
    values["FilePath.validateAntFileMask.whitespaceSeparator"] = "Changed"
    out = render(values, source, source)
    assert diff(source.raw, out) == [
        "-  Whitespace can no longer be used as the separator. Please Use ‘,’ as the separator instead.",
        "+  Changed",
    ]
