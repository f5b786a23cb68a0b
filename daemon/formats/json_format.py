"""JSON translation files, flat (``{"a.b": "x"}``) or nested (``{"a": {"b": "x"}}``).

Why a hand-written parser instead of ``json.loads``: the daemon must say *where* a file is
broken (``FormatError`` with line and column), and ``json.loads`` cannot report the position
of a duplicate key, of an integer too long to convert, or of a non-standard ``NaN``. It also
throws away the structure we need to write the file back in its own shape: which containers
were arrays, where the empty ``{}``/``[]`` were, and the whitespace after ``:`` and ``,``.
Strings are still decoded by the C ``scanstring`` of the standard library, so escapes and
control characters follow exactly the rules of ``json.loads(strict=True)``.

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

import json
import json.decoder
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal, cast

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats.base import Format, Leaf, ParsedFile

Kind = Literal["object", "array"]
Segments = tuple[str, ...]
"""A container path as raw (unescaped) object keys or array indexes; the root is ``()``."""

MAX_DEPTH = 256
"""Deepest nesting accepted. Real translation files stay below 10; the limit keeps parsing and
``json.dumps`` (both recursive) far away from Python's recursion limit."""

_BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# A \uXXXX escape (not itself preceded by an escaping backslash) of a non-ASCII character.
_NON_ASCII_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})"
)
_RAW_NON_ASCII = re.compile(r"[^\x00-\x7f]")

# The C string scanner of the standard library: not in typeshed, but present in every CPython.
_scanstring = cast(Callable[[str, int, bool], tuple[str, int]], vars(json.decoder)["scanstring"])


@dataclass(frozen=True)
class Empty:
    """An empty object or array at ``path``: no entry stands for it, so the layout keeps it."""

    path: Segments
    kind: Kind


Item = str | Empty
"""One thing in document order: a flat key (a leaf) or an empty container."""


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


class _Fail(Exception):
    """Internal: a parse error at a character offset, turned into ``FormatError`` by ``parse``."""

    def __init__(self, pos: int, detail: str) -> None:
        super().__init__(detail)
        self.pos = pos
        self.detail = detail


class _Parser:
    """Recursive-descent JSON parser that records flat entries and the layout as it goes."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.entries: dict[str, Leaf] = {}
        self.items: list[Item] = []
        self.containers: dict[Segments, Kind] = {}
        self.colon_ws: str | None = None
        self.comma_ws: str | None = None

    def skip_ws(self, i: int) -> int:
        m = _WS.match(self.s, i)
        assert m is not None  # the pattern matches the empty string
        return m.end()

    def value(self, i: int, path: Segments) -> int:
        """Parse the value starting at ``i`` (no leading whitespace); return the end offset."""
        s = self.s
        c = s[i : i + 1]
        if c == "{":
            return self.obj(i, path)
        if c == "[":
            return self.arr(i, path)
        if c == '"':
            text, end = self.string(i)
            self.leaf(path, text)
            return end
        if c == "n" and s.startswith("null", i):
            self.leaf(path, None)
            return i + 4
        if c == "t" and s.startswith("true", i):
            self.leaf(path, True)
            return i + 4
        if c == "f" and s.startswith("false", i):
            self.leaf(path, False)
            return i + 5
        m = _NUMBER.match(s, i)
        if m is None:
            raise _Fail(i, "expecting a value")
        integer, frac, exp = m.groups()
        number: int | float
        if frac or exp:
            number = float(m.group())
            if number in (float("inf"), float("-inf")):
                raise _Fail(i, "number out of range")
        else:
            try:
                number = int(integer)
            except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
                raise _Fail(i, "integer has too many digits") from None
        self.leaf(path, number)
        return m.end()

    def string(self, i: int) -> tuple[str, int]:
        try:
            return _scanstring(self.s, i + 1, True)
        except json.JSONDecodeError as e:
            raise _Fail(e.pos, e.msg) from None

    def leaf(self, path: Segments, value: Leaf) -> None:
        key = keypaths.join(path)
        self.entries[key] = value
        self.items.append(key)

    def enter(self, i: int, path: Segments, kind: Kind) -> None:
        if len(path) >= MAX_DEPTH:
            raise _Fail(i, f"nesting deeper than {MAX_DEPTH} levels")
        self.containers[path] = kind

    def obj(self, i: int, path: Segments) -> int:
        self.enter(i, path, "object")
        s = self.s
        i = self.skip_ws(i + 1)
        if s[i : i + 1] == "}":
            if path:
                self.items.append(Empty(path, "object"))
            return i + 1
        seen: set[str] = set()
        while True:
            if s[i : i + 1] != '"':
                raise _Fail(i, "expecting a property name in double quotes")
            key, j = self.string(i)
            if key in seen:
                raise _Fail(i, f"duplicate key {key!r}")
            seen.add(key)
            j = self.skip_ws(j)
            if s[j : j + 1] != ":":
                raise _Fail(j, "expecting ':' delimiter")
            k = self.skip_ws(j + 1)
            if self.colon_ws is None:
                self.colon_ws = s[j + 1 : k]
            i = self.skip_ws(self.value(k, (*path, key)))
            c = s[i : i + 1]
            if c == "}":
                return i + 1
            if c != ",":
                raise _Fail(i, "expecting ',' delimiter")
            j = self.skip_ws(i + 1)
            if self.comma_ws is None:
                self.comma_ws = s[i + 1 : j]
            i = j

    def arr(self, i: int, path: Segments) -> int:
        self.enter(i, path, "array")
        s = self.s
        i = self.skip_ws(i + 1)
        if s[i : i + 1] == "]":
            self.items.append(Empty(path, "array"))
            return i + 1
        index = 0
        while True:
            i = self.skip_ws(self.value(i, (*path, str(index))))
            index += 1
            c = s[i : i + 1]
            if c == "]":
                return i + 1
            if c != ",":
                raise _Fail(i, "expecting ',' delimiter")
            j = self.skip_ws(i + 1)
            if self.comma_ws is None:
                self.comma_ws = s[i + 1 : j]
            i = j


def _line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of offset ``pos``, as ``json`` counts them."""
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return line, column


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


def _detect_ensure_ascii(text: str) -> bool:
    """Keep writing ``\\uXXXX`` for non-ASCII characters if the file mostly does so already."""
    escapes = sum(1 for _ in _NON_ASCII_ESCAPE.finditer(text))
    if not escapes:
        return False
    raw = sum(1 for _ in _RAW_NON_ASCII.finditer(text))
    return escapes > raw


def _same_leaf(a: Leaf, b: Leaf) -> bool:
    """Equality that tells ``1`` from ``1.0`` from ``True`` (Python's ``==`` does not)."""
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
        bom = data.startswith(_BOM)
        body_bytes = data[len(_BOM) :] if bom else data
        try:
            text = body_bytes.decode("utf-8")
        except UnicodeDecodeError as e:
            good = body_bytes[: e.start].decode("utf-8")
            line, column = _line_column(good, len(good))
            raise FormatError(path, line, column, f"invalid UTF-8 byte 0x{body_bytes[e.start]:02x}") from None
        parser = _Parser(text)
        start = parser.skip_ws(0)
        try:
            if text[start : start + 1] not in ("{", ""):
                parser.value(start, ())  # so that garbage is reported as such, not as "not an object"
                raise _Fail(start, "the top level must be a JSON object")
            end = parser.value(start, ())
            after = parser.skip_ws(end)
            if after != len(text):
                raise _Fail(after, "extra data after the top-level object")
        except _Fail as e:
            line, column = _line_column(text, e.pos)
            raise FormatError(path, line, column, e.detail) from None
        except RecursionError:  # defensive: MAX_DEPTH should always trigger first
            raise FormatError(path, None, None, "nesting too deep") from None
        indent = _detect_indent(text[start:end])
        item_sep, key_sep = _separators(indent, parser.colon_ws, parser.comma_ws)
        first_newline = text.find("\n")
        layout = JsonLayout(
            indent=indent,
            item_separator=item_sep,
            key_separator=key_sep,
            ensure_ascii=_detect_ensure_ascii(text),
            newline="\r\n" if first_newline > 0 and text[first_newline - 1] == "\r" else "\n",
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
        return _BOM + out if layout.bom else out

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
        leaf_paths = {tuple(keypaths.split(item)) for item in order if isinstance(item, str)}
        root = _Node()
        for item in order:
            if isinstance(item, Empty):
                segments: Segments = item.path
                if any(segments[:n] in leaf_paths for n in range(1, len(segments) + 1)):
                    continue
            else:
                segments = tuple(keypaths.split(item))
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
