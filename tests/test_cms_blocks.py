"""Strapi "blocks" rich text <-> tagged segments (daemon.cms.blocks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from daemon.cms.blocks import BlocksError, render, segments

DOC: list[dict[str, Any]] = [
    {"type": "heading", "level": 2, "children": [{"type": "text", "text": "Title & <more>"}]},
    {"type": "paragraph", "children": [
        {"type": "text", "text": "Hello "},
        {"type": "text", "text": "world", "bold": True, "italic": True},
        {"type": "text", "text": " and "},
        {"type": "link", "url": "https://a.example", "children": [{"type": "text", "text": "A", "code": True}]},
        {"type": "text", "text": " or "},
        {"type": "link", "url": "https://b.example", "children": [{"type": "text", "text": "B"}]},
    ]},
    {"type": "image", "image": {"url": "/uploads/x.png", "alternativeText": None}, "children": [{"type": "text", "text": ""}]},
    {"type": "list", "format": "ordered", "children": [
        {"type": "list-item", "children": [{"type": "text", "text": "one"}]},
        {"type": "list", "format": "unordered", "children": [
            {"type": "list-item", "children": [{"type": "text", "text": "nested"}]},
        ]},
    ]},
]


def test_segments_are_one_per_block_and_list_item_with_tags() -> None:
    assert segments(DOC, "summary") == {
        "summary/0": "Title &amp; &lt;more&gt;",
        "summary/1": 'Hello <b><i>world</i></b> and <a id="0"><code>A</code></a> or <a id="1">B</a>',
        "summary/3/0": "one",
        "summary/3/1/0": "nested",
    }


def test_rendering_the_segments_gives_the_source_back() -> None:
    assert render(DOC, segments(DOC, "s"), "s") == DOC


def test_a_translation_moves_marks_and_keeps_link_urls() -> None:
    values = {"s/1": '<a id="1">B</a> oder <a id="0">A</a>, <b>Welt</b> & hallo'}
    before = copy.deepcopy(DOC)
    out = render(DOC, values, "s")
    children = out[1]["children"]
    assert children[0] == {"type": "link", "url": "https://b.example", "children": [{"type": "text", "text": "B"}]}
    assert children[2]["url"] == "https://a.example"
    assert {"type": "text", "text": "Welt", "bold": True} in children
    assert children[-1] == {"type": "text", "text": " & hallo"}
    assert out[0] == DOC[0] and out[2] == DOC[2]  # untouched blocks and the image stay as they were
    assert before == DOC  # the source is not modified


def test_missing_values_keep_the_source_text() -> None:
    out = render(DOC, {"s/3/0": "eins"}, "s")
    assert out[3]["children"][0]["children"] == [{"type": "text", "text": "eins"}]
    assert out[3]["children"][1] == DOC[3]["children"][1]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>open", "left open"),
        ("close</b>", "closes nothing"),
        ("<b><i>x</b></i>", "closes nothing"),
        ('<a id="7">x</a>', "link 7 is not in the source"),
        ("x</a>", "without its '<a>'"),
    ],
)
def test_broken_tags_are_refused_naming_the_key(text: str, problem: str) -> None:
    with pytest.raises(BlocksError) as info:
        render(DOC, {"s/1": text}, "s")
    assert str(info.value).startswith("s/1: ") and problem in str(info.value)


def test_an_empty_translation_still_has_a_text_run() -> None:
    out = render(DOC, {"s/0": ""}, "s")
    assert out[0]["children"] == [{"type": "text", "text": ""}]


def test_not_a_list_has_no_segments() -> None:
    assert segments({"type": "paragraph"}, "s") == {}
    assert render(None, {"s/0": "x"}, "s") == []
