"""JSON translation files, flat (``{"a.b": "x"}``) or nested (``{"a": {"b": "x"}}``).

Parsed by the position-aware parser of ``daemon.formats._json`` (its docstring says why not
``json.loads``): errors carry a line and column, and the parse keeps the structure needed to
write the file back in its own shape (arrays, empty containers, separators).

Keys follow ``daemon.keypaths``: nested objects give ``/``-joined paths, array items give
their index (``steps/0``), and a ``/`` inside an object key is escaped (``~1``), so a flat
file's keys never contain a bare ``/`` and a flat file is rendered flat again.

Rendering uses ``json.dumps`` with the layout detected at parse time (indent, separators,
``ensure_ascii``) and then restores the line endings, the bytes before and after the top-level
object (trailing newline or none), and the UTF-8 BOM. ``ensure_ascii`` is on when ``\\uXXXX``
escapes of non-ASCII characters outnumber raw non-ASCII characters (a file mixing both cannot
be reproduced either way). A file written by ``json.dumps`` with
any indent therefore re-renders identically, line for line; finer fidelity (hand-aligned
whitespace, number spelling such as ``1.50``) is out of scope here.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from daemon import keypaths
from daemon.formats._json import (
    MAX_DEPTH,
    Empty,
    Item,
    Kind,
    Parser,
    Segments,
    detect_ensure_ascii,
    parse_document,
    parse_fast,
)
from daemon.formats._text import UTF8_BOM, decode_utf8, newline_of
from daemon.formats.base import Format, Leaf, ParsedFile


@dataclass(frozen=True)
class JsonLayout:
    """Everything besides the entries that ``render`` needs to write a file in its own style."""

    indent: int | str | None = 2
    """Spaces per level, a literal indent string (tabs), or ``None`` for a one-line file."""
    item_separator: str = ","
    key_separator: str = ": "
    ensure_ascii: bool = False
    newline: str = "\n"
    head: str = ""
    """Whitespace before the top-level object."""
    tail: str = "\n"
    """Whitespace after the top-level object (the trailing newline, or nothing)."""
    bom: bool = False
    containers: Mapping[Segments, Kind] = field(default_factory=dict)
    items: tuple[Item, ...] = ()


_DEFAULT_LAYOUT = JsonLayout()


def _detect_indent(body: str) -> int | str | None:
    """Indent of the first member line (spaces as a count, else the literal string).

    ``None`` (compact) if the object is on one line; 2 if no member starts a line.
    """
    if "\n" not in body:
        return None
    for line in body.split("\n")[1:]:
        content = line.lstrip(" \t\r")
        if not content or content[0] in "}]":
            continue
        unit = line[: len(line) - len(content)]
        return len(unit) if unit.strip(" ") == "" else unit
    return 2


def _separators(indent: int | str | None, colon_ws: str | None, comma_ws: str | None) -> tuple[str, str]:
    key_sep = ":" + colon_ws if colon_ws in ("", " ") else ": "
    if indent is not None:
        return ",", key_sep
    item_sep = "," + comma_ws if comma_ws in ("", " ") else ", "
    return item_sep, key_sep


def _same_leaf(a: Leaf, b: Leaf) -> bool:
    """Equality that tells ``1`` from ``1.0`` from ``True``, and floats by their spelling.

    Stricter than ``_entries.same_leaf`` on purpose: ``-0.0`` and ``0.0`` are different files.
    """
    return type(a) is type(b) and (a == b if not isinstance(a, float) else repr(a) == repr(b))


def _same_entries(a: Mapping[str, Leaf], b: Mapping[str, Leaf]) -> bool:
    """Same keys with the same values (see ``_same_leaf``), order ignored."""
    if len(a) != len(b):
        return False
    return all(key in b and _same_leaf(value, b[key]) for key, value in a.items())


def _layout_of(parsed: ParsedFile | None) -> JsonLayout | None:
    return parsed.layout if parsed is not None and isinstance(parsed.layout, JsonLayout) else None


def _items_of(parsed: ParsedFile) -> Iterator[Item]:
    layout = _layout_of(parsed)
    return iter(layout.items) if layout is not None else iter(parsed.entries)


class _Node:
    """An object or array being assembled by ``render``; children in insertion order."""

    __slots__ = ("children",)

    def __init__(self) -> None:
        self.children: dict[str, _Node | Leaf] = {}


class JsonFormat(Format):
    """Flat or nested JSON objects, as written by i18next, react-intl, vue-i18n and friends."""

    name: ClassVar[str] = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        text, bom = decode_utf8(data, path)
        parser = Parser(text)
        span = parse_fast(parser)
        start, end = span if span is not None else parse_document(parser, path, empty_reads_as_value=True)
        indent = _detect_indent(text[start:end])
        item_sep, key_sep = _separators(indent, parser.colon_ws, parser.comma_ws)
        layout = JsonLayout(
            indent=indent,
            item_separator=item_sep,
            key_separator=key_sep,
            ensure_ascii=detect_ensure_ascii(text),
            newline=newline_of(text),
            head=text[:start],
            tail=text[end:],
            bom=bom,
            containers=parser.containers,
            items=tuple(parser.items),
        )
        return ParsedFile(entries=parser.entries, raw=data, layout=layout)

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        if target is not None and _same_entries(values, target.entries):
            target_order = list(target.entries)
            if target_order == list(values):
                return target.raw
            if target_order == [i for i in self._order(values, source, target) if isinstance(i, str)]:
                return target.raw
        layout_file = target if target is not None else source
        layout = _layout_of(layout_file) or _DEFAULT_LAYOUT
        fallback = _layout_of(source) if layout_file is not source else None
        order = self._order(values, source, target)
        root = self._tree(values, order)
        tree = self._plain(root, (), layout, fallback)
        text = json.dumps(
            tree,
            indent=layout.indent,
            ensure_ascii=layout.ensure_ascii,
            separators=(layout.item_separator, layout.key_separator),
            allow_nan=False,
        )
        if layout.newline != "\n":
            text = text.replace("\n", layout.newline)  # json.dumps never puts a raw newline in a string
        # A lone surrogate (from a "\ud800" escape) cannot be UTF-8; backslashreplace writes it
        # as "\ud800" again, which is exactly its JSON escape, since it can only be inside a string.
        out = (layout.head + text + layout.tail).encode("utf-8", "backslashreplace")
        return UTF8_BOM + out if layout.bom else out

    @staticmethod
    def _order(values: Mapping[str, Leaf], source: ParsedFile, target: ParsedFile | None) -> list[Item]:
        """Source order, then target-only items, then the rest of ``values`` as given.

        Empty containers come only from the file whose layout is used, at their place in it.
        """
        layout_file = target if target is not None else source
        seen: set[str] = set()
        order: list[Item] = []
        for parsed in (source, target if target is not source else None):
            if parsed is None:
                continue
            for item in _items_of(parsed):
                if isinstance(item, Empty):
                    if parsed is layout_file:
                        order.append(item)
                elif item in values and item not in seen:
                    seen.add(item)
                    order.append(item)
        order.extend(key for key in values if key not in seen)
        return order

    @staticmethod
    def _tree(values: Mapping[str, Leaf], order: list[Item]) -> _Node:
        """Nest the flat keys; an empty container under or at a leaf is dropped (the leaf wins)."""
        split = {item: tuple(keypaths.split(item)) for item in order if isinstance(item, str)}
        leaf_paths = set(split.values())
        root = _Node()
        for item in order:
            if isinstance(item, Empty):
                segments: Segments = item.path
                if any(segments[:n] in leaf_paths for n in range(1, len(segments) + 1)):
                    continue
            else:
                segments = split[item]
                if len(segments) > MAX_DEPTH:
                    raise ValueError(f"key {item[:60]!r}... is nested deeper than {MAX_DEPTH} levels")
            node = root
            for depth, segment in enumerate(segments[:-1]):
                child = node.children.get(segment)
                if child is None:
                    child = node.children[segment] = _Node()
                elif not isinstance(child, _Node):
                    above = keypaths.join(list(segments[: depth + 1]))
                    raise ValueError(f"keys {above!r} and {item!r} cannot both exist: one is inside the other")
                node = child
            last = segments[-1]
            if isinstance(item, Empty):
                node.children.setdefault(last, _Node())
            elif last in node.children:
                raise ValueError(f"key {item!r} cannot hold a value: other keys are nested inside it")
            else:
                node.children[last] = values[item]
        return root

    def _plain(
        self, node: _Node, path: Segments, layout: JsonLayout, fallback: JsonLayout | None
    ) -> dict[str, object] | list[object]:
        """Turn the node tree into dicts and lists; arrays stay arrays while their indexes allow."""
        children: dict[str, object] = {
            key: self._plain(child, (*path, key), layout, fallback) if isinstance(child, _Node) else child
            for key, child in node.children.items()
        }
        kind = layout.containers.get(path) or (fallback.containers.get(path) if fallback else None)
        if path and kind == "array" and set(children) == {str(n) for n in range(len(children))}:
            return [children[str(n)] for n in range(len(children))]
        return children


def render_json_in_order(
    fmt: JsonFormat,
    values: Mapping[str, Leaf],
    order: list[Item],
    source: ParsedFile,
    target: ParsedFile | None,
) -> bytes:
    """Have ``JsonFormat`` write ``values`` in exactly ``order``, in the style of ``target`` (else ``source``).

    ``source`` and ``target`` are JSON-level parsed files. ``JsonFormat.render`` orders keys by
    its own rule (source first); formats built on it that must place keys elsewhere (i18next's
    plural forms next to their siblings, a FormatJS message's fields together) pass it a
    stand-in for the layout file whose item order is ``order``, as both source and target, so
    that it still returns the target's raw bytes when nothing changed.
    """
    layout_file = target if target is not None else source
    layout = _layout_of(layout_file) or JsonLayout()
    source_layout = _layout_of(source)
    containers = dict(source_layout.containers) if source_layout is not None else {}
    containers.update(layout.containers)
    stand_in = ParsedFile(
        entries=dict(target.entries) if target is not None else {},
        raw=target.raw if target is not None else b"",
        layout=dataclasses.replace(layout, items=tuple(order), containers=containers),
    )
    return JsonFormat.render(fmt, values, source=stand_in, target=stand_in if target is not None else None)
