"""Rails YAML: the format contract on the corpus, the locale root, and real en/de pairs.

The YAML engine itself (scalar styles, aliases, insertion) is tested in ``test_plain_yaml.py``.
"""

from __future__ import annotations

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from tests.formats.contract import CORPUS, FormatContract, changed_lines

FMT = get_format("yaml-rails")


class TestRailsYamlContract(FormatContract):
    format_name = "yaml-rails"
    corpus_dirs = ("yaml-rails",)
    corpus_suffixes = (".yml", ".yaml")
    sample = (
        b"# Sample localization file\n"
        b"en:\n"
        b"  activerecord:\n"
        b"    errors:\n"
        b"      messages:\n"
        b'        blank: "can\'t be blank"\n'
        b"  items:\n"
        b"    one: '%{count} item'\n"
        b"    other: '%{count} items'\n"
        b"  body: |-\n"
        b"    Hello %{name},\n"
        b"    welcome!\n"
    )


def parse(text: str, locale: str | None = None) -> ParsedFile:
    return FMT.parse(text.encode(), path="t.yml", locale=locale)


def corpus(name: str, locale: str) -> ParsedFile:
    return FMT.parse((CORPUS / "yaml-rails" / name).read_bytes(), path=name, locale=locale)


def test_keys_are_paths_below_the_locale_root_and_plurals_stay_nested() -> None:
    entries = parse("en:\n  errors:\n    blank: x\n  items:\n    one: a\n    other: b\n").entries
    assert entries == {"errors/blank": "x", "items/one": "a", "items/other": "b"}


def test_a_new_target_renames_the_root_to_its_locale() -> None:
    source = parse("# comment\nen:\n  hello: Hello\n", "en")
    out = FMT.render({"hello": "Hallo"}, source=source, target=None, locale="de")
    assert out == b"# comment\nde:\n  hello: Hallo\n"


def test_an_existing_target_keeps_its_own_root() -> None:
    source = parse("en:\n  a: A\n  b: B\n", "en")
    target = parse("de-DE:\n  a: X\n", "de")
    out = FMT.render({"a": "X", "b": "Y"}, source=source, target=target, locale="de")
    assert out == b"de-DE:\n  a: X\n  b: Y\n"


def test_the_root_is_chosen_by_locale_in_a_multi_locale_file() -> None:
    text = "en:\n  a: A\npt-BR:\n  a: B\n"
    assert parse(text, "pt_BR").entries == {"a": "B"}
    assert parse(text, "en").entries == {"a": "A"}
    assert parse(text).entries == {"a": "A"}  # no locale: the first root
    assert parse(text, "fr").entries == {"a": "A"}


def test_writing_one_root_leaves_the_others_alone() -> None:
    text = "en:\n  a: A\nde:\n  a: B\n"
    parsed = parse(text, "de")
    assert FMT.render({"a": "C"}, source=parsed, target=parsed) == b"en:\n  a: A\nde:\n  a: C\n"


def test_an_empty_or_missing_root_receives_keys() -> None:
    source = parse("en:\n  a: A\n  b:\n    c: C\n", "en")
    values: dict[str, Leaf] = {"a": "X", "b/c": "Y"}
    for text in ("de:\n", "de: {}\n", "", "# nothing yet\n"):
        out = FMT.render(values, source=source, target=parse(text, "de"), locale="de")
        assert parse(out.decode(), "de").entries == values
        assert b"de:\n  a: X\n  b:\n    c: Y\n" in out


def test_a_root_merged_from_another_locale_keeps_the_merge() -> None:
    text = "en: &EN\n  a: A\n  b: B\nen-GB:\n  <<: *EN\n"
    target = parse(text, "en-GB")
    assert target.entries == {}  # merged keys belong to en, they are not copied
    out = FMT.render({"a": "Colour"}, source=parse(text, "en"), target=target, locale="en-GB")
    assert out.decode() == "en: &EN\n  a: A\n  b: B\nen-GB:\n  <<: *EN\n  a: Colour\n"


def test_a_root_that_is_not_a_mapping_is_a_format_error() -> None:
    with pytest.raises(FormatError) as error:
        FMT.parse(b"en: just text\n", path="en.yml", locale="en")
    assert (error.value.line, error.value.column) == (1, 5)


def test_a_new_target_needs_a_locale_or_a_source_root() -> None:
    empty = parse("")
    with pytest.raises(ValueError, match="locale"):
        FMT.render({"a": "x"}, source=empty, target=None)


def test_openstreetmap_german_from_the_english_source() -> None:
    """Missing keys are added at their source position, one line per key (plus new parents)."""
    en, de = corpus("openstreetmap-website/en.yml", "en"), corpus("openstreetmap-website/de.yml", "de")
    values = {k: de.entries.get(k, f"DE {v}" if isinstance(v, str) else v) for k, v in en.entries.items()}
    out = FMT.render(values, source=en, target=de, locale="de")
    back = FMT.parse(out, path="de.yml", locale="de")
    assert back.entries == values
    assert list(back.entries) == list(en.entries)  # German already followed the English order
    assert out.startswith(de.raw[:2000])  # the translatewiki header is untouched
    added = out.count(b"\n") - de.raw.count(b"\n")
    missing = len(values) - len(de.entries)
    assert missing <= added <= 2 * missing


def test_diaspora_german_keeps_its_quoting_and_drops_keys_gone_from_english() -> None:
    en, de = corpus("diaspora/en.yml", "en"), corpus("diaspora/de.yml", "de")
    values = {k: de.entries.get(k, f"DE {v}" if isinstance(v, str) else v) for k, v in en.entries.items()}
    out = FMT.render(values, source=en, target=de, locale="de")
    assert FMT.parse(out, path="de.yml", locale="de").entries == values
    # the German file writes plain scalars where English double-quotes them: new keys follow German
    assert b"    liked_comment:\n      zero: DE %{actors} have liked your comment %{comment_link}.\n" in out


def test_a_new_arabic_target_from_the_english_source() -> None:
    en = corpus("openstreetmap-website/en.yml", "en")
    values = {k: (f"AR {v}" if isinstance(v, str) else v) for k, v in en.entries.items()}
    out = FMT.render(values, source=en, target=None, locale="ar")
    assert FMT.parse(out, path="ar.yml", locale="ar").entries == values
    assert out.count(b"\n") == en.raw.count(b"\n")  # every value replaced on its own line
    assert out.startswith(b"ar:\n") and b"\nen:\n" not in out


def test_one_translation_changes_one_line_in_the_multi_locale_file() -> None:
    parsed = corpus("minimal-mistakes/ui-text.yml", "de")
    assert parsed.entries["page"] == "Seite"
    values = {**parsed.entries, "page": "Blatt"}
    out = FMT.render(values, source=parsed, target=parsed, locale="de")
    assert changed_lines(parsed.raw, out) == 2
    assert b'  page                       : "Blatt"\n' in out
