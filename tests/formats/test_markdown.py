"""MarkdownFormat: the shared contract, block segmentation, MDX, front matter, keys and rendering."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats._markdown_front import yaml_scalar
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.markdown import MarkdownFormat
from tests.formats.contract import CORPUS, FormatContract
from tests.formats.pairs import diff_lines as changed

FMT = MarkdownFormat()


class TestMarkdownContract(FormatContract):
    format_name = "markdown"
    corpus_dirs = ("markdown",)
    corpus_suffixes = (".md", ".mdx")
    sample = (
        b"---\ntitle: Hello\nslug: /hello\n---\n\n# Welcome\n\nSome *text* with `code`\nover two lines.\n\n"
        b"- item one\n- item two\n\n```sh\nnpm install\n```\n\n| A | B |\n|---|---|\n| x | y |\n"
    )


def parse(text: str, path: str = "doc.md") -> ParsedFile:
    return FMT.parse(text.encode(), path=path)


def values_of(text: str, path: str = "doc.md") -> list[Leaf]:
    return list(parse(text, path).entries.values())


def render(values: Mapping[str, Leaf], source: ParsedFile, target: ParsedFile | None = None) -> str:
    return FMT.render(values, source=source, target=target).decode()


def replace(parsed: ParsedFile, old: str, new: str) -> dict[str, Leaf]:
    """The entries with the value ``old`` changed to ``new``."""
    key = next(k for k, v in parsed.entries.items() if v == old)
    return dict(parsed.entries) | {key: new}


def test_registry() -> None:
    fmt = get_format("markdown")
    assert isinstance(fmt, MarkdownFormat)
    assert fmt.extensions == (".md", ".mdx") and fmt.front_matter_keys == ("title", "description")


# --- segmentation ---------------------------------------------------------------------------

DOC = """# Title #

Intro with `code`, a [link](https://example.com/a "Tip") and <b>html</b>
on two lines.

Setext heading
--------------

- item *one*
  continued
- item two
  > quoted in an item

1. first

   second paragraph of the item

> quote

| Col A | Col \\| B |
|-------|----------|
| x     |          |

```python
print("not text")
```

    indented code

<div align="center">
  <img src="logo.png">
</div>

***

[ref]: https://example.com
"""


def test_blocks_are_paragraphs_headings_and_cells_without_their_markers() -> None:
    assert values_of(DOC) == [
        "Title",
        'Intro with `code`, a [link](https://example.com/a "Tip") and <b>html</b>\non two lines.',
        "Setext heading",
        "item *one*\ncontinued",
        "item two",
        "quoted in an item",
        "first",
        "second paragraph of the item",
        "quote",
        "Col A",
        "Col \\| B",
        "x",
    ]


def test_markup_without_words_is_not_an_entry() -> None:
    text = "[![](https://ci/badge.svg)](https://ci)\n\n`code` <br/>\n\n123 {x}\n\n![alt text](a.png)\n"
    assert values_of(text) == ["![alt text](a.png)"]


def test_admonitions_markers_are_skeleton_and_titles_are_entries() -> None:
    text = ":::caution Web APIs are not available!\n\nBody text.\n\n:::\n\n:::note\nNo title.\n:::\n"
    assert values_of(text) == ["Web APIs are not available!", "Body text.", "No title."]


def test_mdx_esm_jsx_and_expressions_are_not_entries() -> None:
    text = """import Tabs from "@theme/Tabs";
import {
  AutoSnippet,
} from "/src/components/CodeSnippet";

export const meta = {
  a: 1,
};

<Tabs
  groupId="riverpod"
  values={[
    { label: 'Flutter', value: 'flutter_riverpod', },
  ]}
>
<TabItem value="x">

Inside a tab.

</TabItem>
</Tabs>

{/* a comment with a } and don't */}

<!---
Old English text
-->
<AutoSnippet {...pubadd}></AutoSnippet>
<Link to="/x">Link text</Link> with inline JSX.

    indented, but MDX has no indented code
"""
    assert values_of(text, "doc.mdx") == [
        "Inside a tab.",
        '<Link to="/x">Link text</Link> with inline JSX.',
        "indented, but MDX has no indented code",
    ]


def test_mdx_rules_do_not_apply_inside_code_fences() -> None:
    text = "Before.\n\n```js\nimport x from 'y';\n<div>\n:::note\n```\n\nAfter.\n"
    parsed = parse(text, "doc.mdx")
    assert list(parsed.entries.values()) == ["Before.", "After."]
    assert render(dict(parsed.entries), parsed, None) == text


def test_plain_markdown_keeps_commonmark_rules() -> None:
    """In ``.md``, an ``import`` line is text and an indented block is code."""
    assert values_of("import this sentence.\n\n    code\n") == ["import this sentence."]


# --- keys -----------------------------------------------------------------------------------


def test_keys_count_blocks_after_the_last_non_translatable_lines() -> None:
    text = "# A\n\nB\n\n```\ncode\n```\n\nC\n\n```\ncode\n```\n\nD\n\nE\n"
    keys = list(parse(text).entries)
    assert keys[:2] == ["body/top/1", "body/top/2"]
    anchor = keys[2].split("/")[1]
    assert keys[2:] == [f"body/{anchor}/1", f"body/{anchor}-2/1", f"body/{anchor}-2/2"]


def test_inserting_a_paragraph_renames_only_blocks_up_to_the_next_anchor() -> None:
    before = "A\n\nB\n\n```\nx\n```\n\nC\n\nD\n"
    after = "A\n\nNew\n\nB\n\n```\nx\n```\n\nC\n\nD\n"
    old, new = parse(before).entries, parse(after).entries
    assert [k for k in old if old[k] != new.get(k)] == ["body/top/2"]
    assert {k: v for k, v in new.items() if k not in old} == {"body/top/3": "B"}


def test_a_translated_file_has_the_keys_of_its_source() -> None:
    source = parse(DOC)
    values = {k: f"T {v}" for k, v in source.entries.items()}
    assert parse(render(values, source)).entries == values


def test_front_matter_keys() -> None:
    text = "---\ntitle: 'Contexts'\nsidebar_label: Contexts\ndescription: Using contexts\n---\n\nBody.\n"
    assert parse(text).entries == {
        "front/title": "Contexts",
        "front/description": "Using contexts",
        "body/top/1": "Body.",
    }


@pytest.mark.parametrize(
    "front",
    [
        "title: 2024",  # not a string
        "title: [a, b]",  # not a scalar
        "base: &t x\ntitle: *t",  # an alias: editing it would edit the anchor
        "title: &t x",  # an anchor
        "title: !!str x",  # an explicit tag
        "- title",  # not a mapping
        "",
    ],
)
def test_front_matter_values_left_alone(front: str) -> None:
    text = f"---\n{front}\n---\nBody.\n"
    parsed = parse(text)
    assert list(parsed.entries) == ["body/top/1"]
    assert render(dict(parsed.entries), parsed, None) == text


def test_no_closing_line_means_no_front_matter() -> None:
    assert values_of("---\ntitle: x\n\nText\n") == ["title: x", "Text"]


# --- rendering ------------------------------------------------------------------------------


def test_changing_a_paragraph_in_a_list_keeps_its_prefixes() -> None:
    source = parse(DOC)
    out = render(replace(source, "item *one*\ncontinued", "Punkt *eins*\nweiter"), source, source)
    assert changed(DOC, out) == ["-- item *one*", "-  continued", "+- Punkt *eins*", "+  weiter"]


def test_more_lines_continue_with_the_container_prefix() -> None:
    source = parse(DOC)
    out = render(replace(source, "quoted in an item", "eins\n\nzwei\ndrei"), source, None)
    assert changed(DOC, out) == [
        "-  > quoted in an item",
        "+  > eins",
        "+  > zwei",
        "+  > drei",
    ]


def test_fewer_lines_drop_the_spare_ones() -> None:
    source = parse(DOC)
    out = render(replace(source, "item *one*\ncontinued", "Punkt eins"), source, None)
    assert changed(DOC, out) == ["-- item *one*", "-  continued", "+- Punkt eins"]


def test_headings_and_cells_stay_on_one_line() -> None:
    source = parse(DOC)
    values = replace(source, "Title", "Titel\nzwei")
    values |= {next(k for k, v in values.items() if v == "x"): "a | b\nc"}
    out = render(values, source, None)
    assert changed(DOC, out) == [
        "-# Title #",
        "+# Titel zwei #",
        "-| x     |          |",
        "+| a \\| b c     |          |",
    ]


def test_missing_or_empty_values_keep_the_source_text() -> None:
    source = parse(DOC)
    values = dict(source.entries)
    first, second = list(values)[:2]
    del values[first]
    values[second] = "  "
    assert render(values, source, None) == DOC


def test_line_endings_and_bom_are_kept() -> None:
    text = "\ufeffFirst line\r\nsecond line\r\n\r\nOther\r\n"
    source = FMT.parse(text.encode(), path="crlf.md")
    out = FMT.render(replace(source, "First line\nsecond line", "Eins\nzwei\ndrei"), source=source, target=None)
    assert out.decode() == "\ufeffEins\r\nzwei\r\ndrei\r\n\r\nOther\r\n"


def test_a_target_gets_the_source_skeleton_and_its_own_front_matter() -> None:
    source = parse("---\ntitle: Hello\nslug: /hello\n---\n\n# Welcome\n\nText.\n\n```\ncode\n```\n")
    target = parse("---\ntitle: Hallo\nslug: /de/hallo\nsidebar_label: Start\n---\n\n# Willkommen\n\nAlter Text.\n")
    values = dict(target.entries) | {"body/top/2": "Text auf Deutsch."}
    assert render(values, source, target) == (
        "---\ntitle: Hallo\nslug: /de/hallo\nsidebar_label: Start\n---\n\n"
        "# Willkommen\n\nText auf Deutsch.\n\n```\ncode\n```\n"
    )


def test_an_unchanged_target_is_returned_as_is() -> None:
    source = parse("# Welcome\n\nText.\n")
    target = parse("#   Willkommen\n\n\nText.\n")
    assert render(dict(target.entries), source, target) == "#   Willkommen\n\n\nText.\n"


def test_front_matter_values_keep_their_style_when_they_can() -> None:
    text = "---\ntitle: 'Contexts'\ndescription: Plain words\nother: kept\n---\nBody.\n"
    source = parse(text)
    values = dict(source.entries) | {"front/title": "L'aperçu", "front/description": "Note: a colon"}
    out = render(values, source, source)
    assert out == "---\ntitle: 'L''aperçu'\ndescription: 'Note: a colon'\nother: kept\n---\nBody.\n"
    assert parse(out).entries == values


def test_block_scalar_front_matter_is_replaced_in_place() -> None:
    text = "---\ndescription: |\n  line one\n  line two\ntitle: T\n---\nBody.\n"
    source = parse(text)
    assert source.entries["front/description"] == "line one\nline two\n"
    out = render(dict(source.entries) | {"front/description": "Eins"}, source, None)
    assert out == "---\ndescription: Eins\ntitle: T\n---\nBody.\n"


def test_front_matter_keys_the_target_lacks_are_appended() -> None:
    source = parse("---\ntitle: Hello\ndescription: Desc\n---\nBody.\n")
    target = parse("---\ntitle: Hallo\nslug: x\n---\nBody.\n")
    values = dict(target.entries) | {"front/description": "Beschreibung: kurz"}
    assert render(values, source, target) == (
        "---\ntitle: Hallo\nslug: x\ndescription: 'Beschreibung: kurz'\n---\nBody.\n"
    )


def test_a_front_matter_key_present_but_not_an_entry_is_not_added_twice() -> None:
    source = parse("---\ntitle: Hello\n---\nBody.\n")
    target = parse("---\ntitle: &t Hallo\n---\nBody.\n")
    assert "front/title" not in target.entries
    out = render(dict(target.entries) | {"front/title": "Servus"}, source, target)
    assert out == "---\ntitle: &t Hallo\n---\nBody.\n"


@pytest.mark.parametrize(
    ("value", "style", "scalar"),
    [
        ("plain", None, "plain"),
        ("yes", None, "'yes'"),  # a boolean in YAML 1.1 (Jekyll)
        ("Off", None, "'Off'"),
        ("12", None, "'12'"),
        ("1:20", None, "'1:20'"),  # sexagesimal in YAML 1.1
        ("a: b", None, "'a: b'"),
        ("a #b", None, "'a #b'"),
        ("- x", None, "'- x'"),
        ("two\nlines", None, '"two\\nlines"'),
        ("it's", '"', '"it\'s"'),
        ("", None, "''"),
    ],
)
def test_yaml_scalar(value: str, style: str | None, scalar: str) -> None:
    assert yaml_scalar(value, style) == scalar


# --- errors ---------------------------------------------------------------------------------


def test_invalid_utf8_is_located() -> None:
    with pytest.raises(FormatError) as info:
        FMT.parse(b"ok\nab\xff", path="bad.md")
    assert (info.value.path, info.value.line, info.value.column) == ("bad.md", 2, 3)


def test_broken_front_matter_is_located_in_the_file() -> None:
    with pytest.raises(FormatError) as info:
        parse("---\ntitle: ok\nbad: [1, 2\n---\nBody\n")
    assert (info.value.line, info.value.column) == (4, 1)
    assert info.value.detail.startswith("front matter:")


def test_duplicate_front_matter_title_is_an_error() -> None:
    with pytest.raises(FormatError) as info:
        parse("---\ntitle: a\ntitle: b\n---\n")
    assert (info.value.line, info.value.column) == (3, 1)


# --- corpus ---------------------------------------------------------------------------------


def corpus_markdown() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not present")
    return sorted(p for p in (CORPUS / "markdown").rglob("*") if p.suffix in (".md", ".mdx"))


def test_corpus_translations_keep_keys_and_skeleton() -> None:
    """Every block translated: the result parses back to the same keys, code and MDX untouched."""
    for path in corpus_markdown():
        source = FMT.parse(path.read_bytes(), path=str(path))
        values = {k: f"Ü {v}" for k, v in source.entries.items()}
        out = FMT.render(values, source=source, target=None)
        assert FMT.parse(out, path=str(path)).entries == values, path
        assert len(out.splitlines()) == len(path.read_bytes().splitlines()), path


def test_corpus_mdx_segmentation() -> None:
    path = CORPUS / "markdown/riverpod/docs/introduction/getting_started.mdx"
    if not path.is_file():
        pytest.skip("riverpod is not in the corpus")
    entries = FMT.parse(path.read_bytes(), path=str(path)).entries
    text = "\n".join(str(v) for v in entries.values())
    assert entries["front/title"] == "Getting started"
    assert "import" not in text and "groupId" not in text and "<AutoSnippet" not in text
    assert "Try Riverpod online" in entries.values()
