"""Plain YAML (Hugo i18n): the format contract on the corpus, plus the engine's features.

The engine is shared with Rails YAML (``test_rails_yaml.py`` covers the locale root); the
focused tests of scalar styles, aliases, flow collections and insertion live here.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from tests.formats.contract import CORPUS, FormatContract, changed_lines

FMT = get_format("yaml")


class TestPlainYamlContract(FormatContract):
    format_name = "yaml"
    corpus_dirs = ("other-hugo-yaml",)
    corpus_suffixes = (".yaml", ".yml")
    sample = (
        b"# Alert labels\n"
        b"caution: Caution\n"
        b"count: 3\n"
        b"menu:\n"
        b"  # the main menu\n"
        b"  home   : 'Home'\n"
        b'  search : "Search\\u2026"\n'
        b"  steps: [one, two]\n"
        b"notice: |-\n"
        b"  Line one\n"
        b"  Line two\n"
    )


def parse(text: str) -> ParsedFile:
    return FMT.parse(text.encode(), path="t.yaml")


def write(text: str, values: dict[str, Leaf]) -> str:
    """Render ``values`` into the file ``text`` (as source and target) and check it reads back."""
    parsed = parse(text)
    out = FMT.render(values, source=parsed, target=parsed).decode()
    assert parse(out).entries == values
    return out


def changed(text: str, **updates: Leaf) -> str:
    parsed = parse(text)
    return write(text, {**parsed.entries, **{k.replace("__", "/"): v for k, v in updates.items()}})


# --- reading ---------------------------------------------------------------------------------


def test_keys_are_paths_and_scalars_are_typed_like_psych() -> None:
    entries = parse("a:\n  b: x\n  c/d: y\nn: 3\nf: 1.5\nt: yes\nnull_value:\nlist: [p, q]\n").entries
    assert entries == {
        "a/b": "x",
        "a/c~1d": "y",
        "n": 3,
        "f": 1.5,
        "t": True,  # YAML 1.1, as Rails and libyaml read it
        "null_value": None,
        "list/0": "p",
        "list/1": "q",
    }


def test_key_segments_are_the_text_as_written() -> None:
    assert list(parse("no: x\n1: y\n'yes': z\n").entries) == ["no", "1", "yes"]


def test_merge_keys_are_not_copied_and_aliases_of_scalars_are_entries() -> None:
    text = "base: &b\n  x: 1\n  s: &s shared\nchild:\n  <<: *b\n  y: 2\n  t: *s\n"
    assert parse(text).entries == {"base/x": 1, "base/s": "shared", "child/y": 2, "child/t": "shared"}


def test_the_last_of_duplicate_keys_wins() -> None:
    assert parse("a: first\na: second\n").entries == {"a": "second"}


def test_opaque_scalars_are_no_entries_but_survive() -> None:
    text = "when: 2001-12-14\nbin: !!binary aGk=\nlabel: x\n"
    assert parse(text).entries == {"label": "x"}
    assert changed(text, label="y") == "when: 2001-12-14\nbin: !!binary aGk=\nlabel: y\n"


def test_empty_and_comment_only_files_have_no_entries() -> None:
    assert parse("").entries == {}
    assert parse("# nothing yet\n").entries == {}


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b"a: b\n  c: d\n", 2, 4),
        (b"a: [x\n", 2, 1),
        (b"- a\n- b\n", 1, 1),
        (b"a: *nowhere\n", 1, 4),
        (b"a: 1\n---\nb: 2\n", 2, 1),
        (b"a: \xff\n", 1, 4),
        (b"a: \x00\n", 1, 4),
    ],
)
def test_malformed_files_name_line_and_column(data: bytes, line: int, column: int) -> None:
    with pytest.raises(FormatError) as error:
        FMT.parse(data, path="bad.yaml")
    assert (error.value.path, error.value.line, error.value.column) == ("bad.yaml", line, column)


def test_deep_nesting_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="nest"):
        FMT.parse(b"[" * 10_000, path="deep.yaml")


# --- writing values --------------------------------------------------------------------------


def test_a_changed_value_keeps_its_quoting_style() -> None:
    text = "p: plain\ns: 'single'\nd: \"double\"\nk   : aligned # note\n"
    out = changed(text, p="new", s="it's", d='say "hi"', k="v")
    assert out == "p: new\ns: 'it''s'\nd: \"say \\\"hi\\\"\"\nk   : v # note\n"


def test_values_that_cannot_be_plain_are_quoted() -> None:
    out = changed("a: x\nb: x\nc: x\nd: x\ne: x\n", a="yes", b="key: value", c="#tag", d="", e=" padded")
    assert out == 'a: "yes"\nb: "key: value"\nc: "#tag"\nd: ""\ne: " padded"\n'


def test_non_strings_are_written_plain() -> None:
    assert changed("a: x\nb: x\nc: x\nd: x\n", a=2, b=False, c=None, d=1e20) == "a: 2\nb: false\nc: null\nd: 1.0e+20\n"


def test_block_scalars_stay_block_scalars_and_keep_the_blank_line_after_them() -> None:
    text = "a: |-\n    one\n    two\n\nb: x\n"
    assert changed(text, a="uno\ndos\n") == "a: |\n    uno\n    dos\n\nb: x\n"
    assert changed(text, a="solo") == "a: |-\n    solo\n\nb: x\n"


def test_multi_line_values_elsewhere_are_double_quoted_on_one_line() -> None:
    assert changed("a: x\nb: y\n", a="one\ntwo") == 'a: "one\\ntwo"\nb: y\n'


def test_anchors_stay_in_front_of_changed_values() -> None:
    assert changed("a: &x hello\nb: *x\n", a="bye") == "a: &x bye\nb: hello\n"


def test_an_alias_given_its_own_value_becomes_a_scalar() -> None:
    assert changed("a: &x hello\nb: *x\n", b="bye") == "a: &x hello\nb: bye\n"


def test_flow_collections_change_in_place() -> None:
    assert changed("a: {b: 1, c: x}\n", a__c="y, z") == 'a: {b: 1, c: "y, z"}\n'
    assert write("d: [p, q]\n", {"d/0": "p", "d/1": "q", "d/2": "r"}) == "d: [p, q, r]\n"


def test_line_endings_bom_and_missing_final_newline_are_kept() -> None:
    parsed = FMT.parse(b"\xef\xbb\xbfa: x\r\nb: y", path="t.yaml")
    out = FMT.render({"a": "x", "b": "z", "c": "new"}, source=parsed, target=parsed)
    assert out == b"\xef\xbb\xbfa: x\r\nb: z\r\nc: new"


# --- adding and removing keys ----------------------------------------------------------------


def test_new_keys_follow_source_order_at_their_siblings_indentation() -> None:
    source = parse("a:\n  first: 1\n  second: 2\n  third: 3\nz: end\n")
    target = parse("# de\na:\n    # the first\n    first: eins\n    third: drei\nz: Ende\n")
    values: dict[str, Leaf] = {"a/first": "eins", "a/second": "zwei", "a/third": "drei", "z": "Ende"}
    out = FMT.render(values, source=source, target=target).decode()
    assert out == "# de\na:\n    # the first\n    first: eins\n    second: zwei\n    third: drei\nz: Ende\n"


def test_a_new_first_key_goes_above_the_comment_of_the_next_one() -> None:
    source = parse("a: 1\nb: 2\n")
    target = parse("# about b\nb: zwei\n")
    out = FMT.render({"a": "eins", "b": "zwei"}, source=source, target=target).decode()
    assert out == "a: eins\n# about b\nb: zwei\n"


def test_new_nested_keys_are_written_as_one_block() -> None:
    out = write("a:\n  b: x\nz: 1\n", {"a/b": "x", "a/c/d": "1", "a/c/e": "two", "z": 1})
    assert out == 'a:\n  b: x\n  c:\n    d: "1"\n    e: two\nz: 1\n'


def test_removed_keys_lose_their_lines_and_emptied_parents_go_too() -> None:
    text = "a:\n  b: x # note\n  c:\n    d: y\nz: 1\n"
    assert write(text, {"a/b": "x", "z": 1}) == "a:\n  b: x # note\nz: 1\n"
    assert write(text, {"z": 1}) == "z: 1\n"


def test_duplicate_keys_are_written_where_the_winner_is_and_removed_together() -> None:
    assert changed("k: x\nk: y\nz: 1\n", k="w") == "k: x\nk: w\nz: 1\n"
    assert write("k: x\nk: y\nz: 1\n", {"z": 1}) == "z: 1\n"


def test_a_leaf_can_become_a_mapping_and_back() -> None:
    assert write("a: leaf\nb: 1\n", {"a/x": "y", "b": 1}) == "a:\n  x: y\nb: 1\n"
    assert write("a:\n  x: y\nb: 1\n", {"a": "leaf", "b": 1}) == "a: leaf\nb: 1\n"


def test_keys_below_a_merge_only_mapping_go_after_the_merge() -> None:
    text = "base: &b\n  x: 1\nchild:\n  <<: *b\n"
    assert write(text, {"base/x": 1, "child/y": "two"}) == "base: &b\n  x: 1\nchild:\n  <<: *b\n  y: two\n"


def test_keys_written_into_an_alias_of_a_mapping_keep_it_as_a_merge() -> None:
    text = "base: &b\n  x: 1\nchild: *b\n"
    assert write(text, {"base/x": 1, "child/y": "two"}) == "base: &b\n  x: 1\nchild:\n  <<: *b\n  y: two\n"


def test_an_empty_file_gets_a_fresh_block_mapping() -> None:
    assert write("", {"a": "x", "b/c": "y"}) == "a: x\nb:\n  c: y\n"
    assert write("{}\n", {"a": "x"}) == "a: x\n"


def test_a_new_target_is_the_source_with_every_value_replaced() -> None:
    source = parse("# Alerts\ncaution: Caution # short\nmenu:\n  home: Home\n")
    out = FMT.render({"caution": "Vorsicht", "menu/home": "Start"}, source=source, target=None, locale="de")
    assert out == b"# Alerts\ncaution: Vorsicht # short\nmenu:\n  home: Start\n"


# --- the corpus ------------------------------------------------------------------------------


def test_hugo_translation_from_the_english_layout() -> None:
    en = FMT.parse((CORPUS / "other-hugo-yaml/docsy/en.yaml").read_bytes(), path="en.yaml")
    ar_bytes = (CORPUS / "other-hugo-yaml/docsy/ar.yaml").read_bytes()
    ar = FMT.parse(ar_bytes, path="ar.yaml")
    values = {k: ar.entries.get(k, f"AR {v}") for k, v in en.entries.items()}
    out = FMT.render(values, source=en, target=ar)
    assert FMT.parse(out, path="out.yaml").entries == values
    missing = [k for k in en.entries if k not in ar.entries]
    removed = [k for k in ar.entries if k not in en.entries]
    assert changed_lines(ar_bytes, out) == len(missing) + len(removed)


def test_existing_keys_keep_their_place_even_when_the_source_orders_them_differently() -> None:
    source = parse("a: 1\nb: 2\nc: 3\n")
    target = parse("b: zwei\na: eins\n")
    out = FMT.render({"a": "eins", "b": "zwei", "c": "drei"}, source=source, target=target)
    assert out == b"b: zwei\nc: drei\na: eins\n"  # c goes after b, its predecessor in the source


def test_what_cannot_be_spliced_is_written_afresh_and_still_correct() -> None:
    # an explicit "? key" cannot lose its lines in place; an anchor deleted under its alias
    assert write("? a\n: x\nb: y\n", {"b": "y"}) == "b: y\n"
    assert write("a: &x v\nb: *x\n", {"b": "v"}) == "b: v\n"


def test_values_that_cannot_nest_are_refused() -> None:
    parsed = parse("a: x\n")
    with pytest.raises(ValueError, match="cannot both exist"):
        FMT.render({"a": "x", "a/b": "y"}, source=parsed, target=parsed)


RICH = (
    "# header\n"
    "a: &anchor plain\n"
    "b: *anchor\n"
    "c:\n"
    "  d: 'single'\n"
    '  e: "double"\n'
    "  f: |-\n"
    "    block\n"
    "    text\n"
    "\n"
    "  g: {h: 1, i: [x, y]}\n"
    "  list:\n"
    "    - one\n"
    "    - two: 2\n"
    "base: &base\n"
    "  k: v\n"
    "child:\n"
    "  <<: *base\n"
    "  m: n # trailing\n"
    "empty: {}\n"
    "none:\n"
)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_random_edits_of_a_rich_file_always_read_back(data: st.DataObject) -> None:
    parsed = parse(RICH)
    keys = list(parsed.entries)
    values: dict[str, Leaf] = dict(parsed.entries)
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=6, unique=True)):
        action = data.draw(st.sampled_from(["drop", "text", "number"]))
        if action == "drop":
            values.pop(key)
        else:
            values[key] = data.draw(st.text(max_size=10) if action == "text" else st.integers())
    new_paths = st.sampled_from(
        ["z", "c/new", "c/g/new", "empty/x", "none/y", "child/p", "base/q", "c/list/2", "n/o/p"]
    )
    for path in data.draw(st.lists(new_paths, max_size=3, unique=True)):
        if not any(k == path or k.startswith(path + "/") or path.startswith(k + "/") for k in values):
            values[path] = data.draw(st.text(max_size=8))
    out = FMT.render(values, source=parsed, target=parsed)
    assert parse(out.decode()).entries == values
