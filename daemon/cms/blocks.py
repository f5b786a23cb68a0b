"""Strapi's "blocks" rich text as translatable segments: one key per block, inline marks as tags.

A paragraph made of several text runs (``Hello `` + bold ``world``) is one segment,
``Hello <b>world</b>``, so the translator sees the whole sentence and may move the bold word;
the placeholder check already refuses a translation that loses or breaks a tag. Links become
``<a id="0">…</a>`` and keep their URL from the source. List items are segments of their own
(``body/2/0``); images and other blocks without text are copied from the source.
"""

from __future__ import annotations

import copy
import html
import re
from typing import Any

MARKS = (("bold", "b"), ("italic", "i"), ("underline", "u"), ("strikethrough", "s"), ("code", "code"))
_TAG = re.compile(r'<(/?)(b|i|u|s|code|a)(?: id="(\d+)")?>')


class BlocksError(ValueError):
    """A segment whose tags cannot be turned back into blocks."""


def segments(blocks: Any, prefix: str) -> dict[str, str]:
    """``prefix/<block>[/<item>...]`` -> the block's inline text with tags, in document order."""
    out: dict[str, str] = {}
    if not isinstance(blocks, list):
        return out
    for n, block in enumerate(blocks):
        _collect(block, f"{prefix}/{n}", out)
    return out


def _collect(block: Any, key: str, out: dict[str, str]) -> None:
    if not isinstance(block, dict):
        return
    children = block.get("children")
    if not isinstance(children, list):
        return
    if block.get("type") == "list":
        for m, item in enumerate(children):
            _collect(item, f"{key}/{m}", out)
        return
    if any(isinstance(c, dict) and c.get("type") == "list" for c in children):  # a nested list in an item
        for m, child in enumerate(children):
            _collect(child, f"{key}/{m}", out)
        return
    text = _inline(children, [0])
    if text.strip():
        out[key] = text


def _inline(children: list[Any], links: list[int]) -> str:
    parts = []
    for child in children:
        if not isinstance(child, dict):
            continue
        if child.get("type") == "link":
            number = links[0]
            links[0] += 1
            parts.append(f'<a id="{number}">' + _inline(child.get("children") or [], links) + "</a>")
            continue
        text = html.escape(str(child.get("text", "")), quote=False)
        for mark, tag in reversed(MARKS):
            if child.get(mark):
                text = f"<{tag}>{text}</{tag}>"
        parts.append(text)
    return "".join(parts)


def render(source: Any, values: dict[str, str], prefix: str) -> list[Any]:
    """The source's blocks with each segment replaced by its value (a missing one keeps the source's)."""
    blocks = copy.deepcopy(source) if isinstance(source, list) else []
    for n, block in enumerate(blocks):
        _replace(block, f"{prefix}/{n}", values)
    return blocks


def _replace(block: Any, key: str, values: dict[str, str]) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("children"), list):
        return
    children = block["children"]
    nested = block.get("type") == "list" or any(isinstance(c, dict) and c.get("type") == "list" for c in children)
    if nested:
        for m, child in enumerate(children):
            _replace(child, f"{key}/{m}", values)
        return
    if key in values:
        block["children"] = _parse(values[key], _links(children), key)


def _links(children: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for child in children:
        if isinstance(child, dict) and child.get("type") == "link":
            found.append({k: v for k, v in child.items() if k != "children"})
            found.extend(_links(child.get("children") or []))
    return found


def _parse(text: str, links: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Inline nodes from a tagged segment; raises ``BlocksError`` naming the key when tags don't nest."""
    root: list[dict[str, Any]] = []
    stack: list[tuple[str, list[dict[str, Any]]]] = [("", root)]
    marks: list[str] = []
    position = 0
    tag_of = {tag: mark for mark, tag in MARKS}
    for match in _TAG.finditer(text):
        if match.start() > position:
            _text(stack[-1][1], html.unescape(text[position:match.start()]), marks)
        closing, tag, number = match.group(1) == "/", match.group(2), match.group(3)
        if tag == "a":
            if closing:
                if stack[-1][0] != "a":
                    raise BlocksError(f"{key}: '</a>' without its '<a>'")
                stack.pop()
            else:
                if number is None or int(number) >= len(links):
                    raise BlocksError(f"{key}: link {number} is not in the source")
                node = {**copy.deepcopy(links[int(number)]), "children": []}
                stack[-1][1].append(node)
                stack.append(("a", node["children"]))
        elif closing:
            if not marks or marks[-1] != tag_of[tag]:
                raise BlocksError(f"{key}: '</{tag}>' closes nothing open")
            marks.pop()
        else:
            marks.append(tag_of[tag])
        position = match.end()
    if position < len(text):
        _text(stack[-1][1], html.unescape(text[position:]), marks)
    if marks or len(stack) > 1:
        raise BlocksError(f"{key}: a tag is left open")
    for nodes in _all_lists(root):
        if not nodes:
            nodes.append({"type": "text", "text": ""})  # Strapi wants at least one text run
    return root


def _text(into: list[dict[str, Any]], text: str, marks: list[str]) -> None:
    node: dict[str, Any] = {"type": "text", "text": text}
    for mark in marks:
        node[mark] = True
    into.append(node)


def _all_lists(nodes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    found = [nodes]
    for node in nodes:
        if isinstance(node.get("children"), list):
            found.extend(_all_lists(node["children"]))
    return found
