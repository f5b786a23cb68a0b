"""I18nextFormat: the shared contract, plural suffixes as ``#<category>`` leaves, and where new forms go."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.i18next_json import I18nextFormat, plural_segment
from daemon.formats.json_format import JsonFormat
from tests.formats.contract import CORPUS, FormatContract
from tests.formats.pairs import diff_lines as changed

FMT = I18nextFormat()


class TestI18nextContract(FormatContract):
    format_name = "i18next"
    corpus_dirs = ("json-flat", "json-nested")
    corpus_suffixes = (".json",)
    layout_exceptions = {  # noqa: RUF012
        "json-nested/hoppscotch/hoppscotch-common/en.json": "mixes \\u escapes and raw non-ASCII; one style is kept",
    }
    sample = (
        b'{\n  "cart": {\n    "items_one": "{{count}} item",\n    "items_other": "{{count}} items"\n  },\n'
        b'  "place_ordinal_one": "{{count}}st",\n  "place_ordinal_other": "{{count}}th",\n  "title": "Shop"\n}\n'
    )


def parse(text: str) -> ParsedFile:
    return FMT.parse(text.encode(), path="x.json")


def render(values: dict[str, Leaf], source: ParsedFile, target: ParsedFile | None = None) -> str:
    return FMT.render(values, source=source, target=target).decode()


EN = """{
  "cart": {
    "items_one": "{{count}} item",
    "items_other": "{{count}} items",
    "empty": "Nothing here"
  },
  "title": "Shop"
}
"""


def test_registry() -> None:
    fmt = get_format("i18next")
    assert isinstance(fmt, I18nextFormat)
    assert fmt.name == "i18next" and fmt.extensions == (".json",)


def test_plural_forms_become_category_leaves() -> None:
    assert parse(EN).entries == {
        "cart/items/#one": "{{count}} item",
        "cart/items/#other": "{{count}} items",
        "cart/empty": "Nothing here",
        "title": "Shop",
    }


def test_flat_files_work_too() -> None:
    parsed = parse('{"cart.items_one": "1", "cart.items_other": "n", "a/b": "x"}')
    assert parsed.entries == {"cart.items/#one": "1", "cart.items/#other": "n", "a~1b": "x"}
    assert render(dict(parsed.entries), parsed) == '{"cart.items_one": "1", "cart.items_other": "n", "a/b": "x"}'


def test_ordinal_forms_keep_the_ordinal_prefix() -> None:
    parsed = parse('{"place_ordinal_one": "st", "place_ordinal_two": "nd", "place_ordinal_other": "th"}')
    assert list(parsed.entries) == ["place/#ordinal_one", "place/#ordinal_two", "place/#ordinal_other"]
    assert plural_segment("two", ordinal=True) == "#ordinal_two" and plural_segment("few") == "#few"


def test_cardinal_and_ordinal_groups_of_one_base_stay_apart() -> None:
    parsed = parse('{"n_one": "a", "n_other": "b", "n_ordinal_one": "c", "n_ordinal_other": "d"}')
    assert list(parsed.entries) == ["n/#one", "n/#other", "n/#ordinal_one", "n/#ordinal_other"]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ('{"button_one": "One button"}', "button_one"),  # no _other sibling
        ('{"items_one": "x", "items_others": "y"}', "items_one"),  # "others" is not a category
        ('{"items_one": "x", "sub": {"items_other": "y"}}', "items_one"),  # the sibling is elsewhere
        ('{"items_one": "x", "items_other": {"deep": "y"}}', "items_one"),  # the sibling is not a leaf
        ('{"_one": "x", "_other": "y"}', "_one"),  # no base name
    ],
)
def test_keys_that_are_not_plural_forms_stay_plain(text: str, plain: str) -> None:
    parsed = parse(text)
    assert plain in parsed.entries
    assert render(dict(parsed.entries), parsed, None) == text


def test_other_alone_is_a_group() -> None:
    """Japanese has only the ``other`` category; its files must line up with English ones."""
    assert parse('{"items_other": "{{count}} 件"}').entries == {"items/#other": "{{count}} 件"}


def test_a_literal_hash_key_is_never_shadowed() -> None:
    text = '{"items_one": "a", "items_other": "b", "items": {"#one": "c"}}'
    parsed = parse(text)
    assert parsed.entries == {"items_one": "a", "items/#other": "b", "items/#one": "c"}
    assert render(dict(parsed.entries), parsed, None) == text


def test_new_categories_go_next_to_their_siblings_in_cldr_order() -> None:
    source = parse(EN)
    values = dict(source.entries)
    values |= {"cart/items/#many": "{{count}} przedmiotów", "cart/items/#few": "{{count}} przedmioty"}
    assert render(values, source) == (
        "{\n"
        '  "cart": {\n'
        '    "items_one": "{{count}} item",\n'
        '    "items_few": "{{count}} przedmioty",\n'
        '    "items_many": "{{count}} przedmiotów",\n'
        '    "items_other": "{{count}} items",\n'
        '    "empty": "Nothing here"\n'
        "  },\n"
        '  "title": "Shop"\n'
        "}\n"
    )


def test_a_polish_target_keeps_its_order_and_changes_one_line() -> None:
    source = parse(EN)
    pl_text = (
        '{\n  "cart": {\n    "items_one": "1 przedmiot",\n    "items_few": "{{count}} przedmioty",\n'
        '    "items_many": "{{count}} przedmiotów",\n    "items_other": "{{count}} przedmiotu",\n'
        '    "empty": "Pusto"\n  },\n  "title": "Sklep"\n}\n'
    )
    target = parse(pl_text)
    assert render(dict(target.entries), source, target) == pl_text
    values = dict(target.entries) | {"cart/items/#many": "{{count}} rzeczy"}
    after = render(values, source, target)
    assert changed(pl_text, after) == [
        '-    "items_many": "{{count}} przedmiotów",',
        '+    "items_many": "{{count}} rzeczy",',
    ]


def test_a_target_keeps_its_own_form_order() -> None:
    """A new form goes before the first form of a later category, even in an unusual order."""
    source = parse(EN)
    target = parse('{"cart": {"items_other": "n", "items_one": "1", "empty": "e"}, "title": "t"}')
    values = dict(target.entries) | {"cart/items/#few": "f"}
    assert render(values, source, target) == (
        '{"cart": {"items_few": "f", "items_other": "n", "items_one": "1", "empty": "e"}, "title": "t"}'
    )


def test_a_dropped_category_disappears() -> None:
    source = parse(EN)
    values = dict(source.entries)
    del values["cart/items/#one"]
    assert '"items_one"' not in render(values, source)


def test_new_plural_keys_neither_file_has() -> None:
    source = parse('{"a": "x"}')
    out = render({"a": "x", "n/#one": "1", "n/#other": "2", "m/#ordinal_other": "th"}, source)
    assert out == '{"a": "x", "n_one": "1", "n_other": "2", "m_ordinal_other": "th"}'


def test_two_keys_written_as_one_file_key_is_an_error() -> None:
    source = parse(EN)
    with pytest.raises(ValueError, match="items_one"):
        FMT.render({"cart/items_one": "a", "cart/items/#one": "b"}, source=source, target=None)


def test_syntax_errors_come_from_json_with_positions() -> None:
    with pytest.raises(FormatError) as info:
        parse('{\n  "a_one": "x",\n  "a_other" "y"\n}')
    assert (info.value.line, info.value.column) == (3, 13)


# --- corpus ---------------------------------------------------------------------------------


def corpus_nested_json() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not present")
    return sorted((CORPUS / "json-nested").rglob("*.json"))


def test_corpus_keys_match_json_except_plurals() -> None:
    """Same leaves as JsonFormat; excalidraw's ``arrowhead_cardinality_one`` has no _other and stays plain."""
    for path in corpus_nested_json():
        data = path.read_bytes()
        plain = JsonFormat().parse(data, path=str(path)).entries
        ours = FMT.parse(data, path=str(path)).entries
        assert list(ours.values()) == list(plain.values())
        assert ours.keys() == plain.keys(), path
    excalidraw = FMT.parse((CORPUS / "json-nested/excalidraw/en.json").read_bytes(), path="en.json")
    assert "labels/arrowhead_cardinality_one" in excalidraw.entries
