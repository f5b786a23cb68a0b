"""The position-aware JSON parser under every JSON-based format (json, i18next, formatjs, arb, xcstrings).

Why a hand-written parser instead of ``json.loads``: the daemon must say *where* a file is
broken (``FormatError`` with line and column), and ``json.loads`` cannot report the position
of a duplicate key, of an integer too long to convert, or of a non-standard ``NaN``. It also
throws away the structure the formats need to write a file back in its own shape: which
containers were arrays, where the empty ``{}``/``[]`` were, the whitespace after ``:`` and
``,`` (``Parser``), and where each value starts and ends, for formats that splice values in
place (``SpanParser``, used by ARB and String Catalogs). Strings are still decoded by the C
``scanstring`` of the standard library, so escapes and control characters follow exactly the
rules of ``json.loads(strict=True)``.
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, cast

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats._text import NON_ASCII_ESCAPE, ParseFailure, line_column
from daemon.formats.base import Leaf

Kind = Literal["object", "array"]
Segments = tuple[str, ...]
"""A container path as raw (unescaped) object keys or array indexes; the root is ``()``."""

MAX_DEPTH = 256
"""Deepest nesting accepted. Real translation files stay below 10; the limit keeps parsing and
``json.dumps`` (both recursive) far away from Python's recursion limit."""

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_RAW_NON_ASCII = re.compile(r"[^\x00-\x7f]")

scanstring = cast(Callable[[str, int, bool], tuple[str, int]], vars(json.decoder)["scanstring"])
"""The C string scanner of the standard library: not in typeshed, but present in every CPython."""


@dataclass(frozen=True)
class Empty:
    """An empty object or array at ``path``: no entry stands for it, so the layout keeps it."""

    path: Segments
    kind: Kind


Item = str | Empty
"""One thing in document order: a flat key (a leaf) or an empty container."""


def skip_ws(text: str, i: int) -> int:
    """The offset of the first non-whitespace character at or after ``i`` (JSON whitespace)."""
    m = _WS.match(text, i)
    assert m is not None  # the pattern matches the empty string
    return m.end()


class Parser:
    """Recursive-descent JSON parser that records flat entries and the layout as it goes.

    With ``allow_duplicates`` a repeated object key is accepted and its last value wins, as
    in Dart's ``jsonDecode``; otherwise it is an error at the repeated key.
    """

    def __init__(self, text: str, *, allow_duplicates: bool = False) -> None:
        self.s = text
        self.allow_duplicates = allow_duplicates
        self.entries: dict[str, Leaf] = {}
        self.items: list[Item] = []
        self.containers: dict[Segments, Kind] = {}
        self.colon_ws: str | None = None
        self.comma_ws: str | None = None

    def skip_ws(self, i: int) -> int:
        # ``skip_ws(self.s, i)``, inlined: the parser calls it several times per value
        m = _WS.match(self.s, i)
        assert m is not None  # the pattern matches the empty string
        return m.end()

    def document(self, *, empty_reads_as_value: bool = False) -> tuple[int, int]:
        """Parse the whole text as one JSON object; return its span. Raises ``ParseFailure``.

        A blank text fails as "the top level must be a JSON object", or with
        ``empty_reads_as_value`` as a missing value ("expecting a value", as ``json.loads`` says).
        """
        start = self.skip_ws(0)
        if self.s[start : start + 1] != "{":
            if start < len(self.s) or empty_reads_as_value:
                self.value(start, ())  # so that garbage is reported as such, not as "not an object"
            raise ParseFailure(start, "the top level must be a JSON object")
        end = self.value(start, ())
        after = self.skip_ws(end)
        if after != len(self.s):
            raise ParseFailure(after, "extra data after the top-level object")
        return start, end

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
            raise ParseFailure(i, "expecting a value")
        integer, frac, exp = m.groups()
        number: int | float
        if frac or exp:
            number = float(m.group())
            if number in (float("inf"), float("-inf")):
                raise ParseFailure(i, "number out of range")
        else:
            try:
                number = int(integer)
            except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
                raise ParseFailure(i, "integer has too many digits") from None
        self.leaf(path, number)
        return m.end()

    def string(self, i: int) -> tuple[str, int]:
        try:
            return scanstring(self.s, i + 1, True)
        except json.JSONDecodeError as e:
            raise ParseFailure(e.pos, e.msg) from None

    def leaf(self, path: Segments, value: Leaf) -> None:
        key = keypaths.join(path)
        self.entries[key] = value
        self.items.append(key)

    def enter(self, i: int, path: Segments, kind: Kind) -> None:
        if len(path) >= MAX_DEPTH:
            raise ParseFailure(i, f"nesting deeper than {MAX_DEPTH} levels")
        self.containers[path] = kind

    def next_member(self, i: int, close: str) -> int | None:
        """After a member or item ending at ``i``: None at ``close``, else the offset past the comma."""
        c = self.s[i : i + 1]
        if c == close:
            return None
        if c != ",":
            raise ParseFailure(i, "expecting ',' delimiter")
        j = self.skip_ws(i + 1)
        if self.comma_ws is None:
            self.comma_ws = self.s[i + 1 : j]
        return j

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
                raise ParseFailure(i, "expecting a property name in double quotes")
            key, j = self.string(i)
            if key in seen and not self.allow_duplicates:
                raise ParseFailure(i, f"duplicate key {key!r}")
            seen.add(key)
            j = self.skip_ws(j)
            if s[j : j + 1] != ":":
                raise ParseFailure(j, "expecting ':' delimiter")
            k = self.skip_ws(j + 1)
            if self.colon_ws is None:
                self.colon_ws = s[j + 1 : k]
            i = self.skip_ws(self.value(k, (*path, key)))
            after = self.next_member(i, "}")
            if after is None:
                return i + 1
            i = after

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
            after = self.next_member(i, "]")
            if after is None:
                return i + 1
            i = after


class _CannotVouch(Exception):
    """``parse_fast`` met something only ``Parser`` handles exactly (or reports precisely)."""


def _checked_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _CannotVouch  # Parser says "number out of range", at its position
    return number


def _refuse_constant(_name: str) -> None:
    raise _CannotVouch  # NaN, Infinity: not JSON; Parser reports where


def _unique_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _CannotVouch  # a repeated key: Parser names it (or, if allowed, orders it)
    return members


_FIRST_COLON = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"(?:[^"\\]|\\.)*"[ \t\n\r]*:([ \t\n\r]*)')
_FIRST_COMMA = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^",])*,([ \t\n\r]*)')
_TRAILING_WS = " \t\n\r"


def parse_fast(parser: Parser) -> tuple[int, int] | None:
    """``parser.document()`` through the C decoder of ``json.loads``, for well-formed files.

    Fills ``parser`` exactly as ``Parser.document`` would (entries, items in document order,
    containers, the whitespace after the first ``:`` and ``,``) and returns the same span, about
    five times faster on translation files. Returns None, with ``parser`` untouched, whenever
    it cannot vouch for the same result: a syntax error (``Parser`` then says where), a repeated
    key, ``NaN``, a number out of range, nesting at ``MAX_DEPTH``. Strings go through the same
    ``scanstring`` in both, numbers through the same rules (``int``, or ``float`` with a fraction
    or an exponent), so a file that parses here parses identically there (``tests/formats``
    checks both on every corpus file and on generated ones).
    """
    text = parser.s
    start = skip_ws(text, 0)
    if text[start : start + 1] != "{":
        return None
    try:
        tree = json.loads(text, object_pairs_hook=_unique_members, parse_float=_checked_float,
                          parse_constant=_refuse_constant)
        entries: dict[str, Leaf] = {}
        items: list[Item] = []
        containers: dict[Segments, Kind] = {}
        if not isinstance(tree, dict):
            return None
        _flatten(tree, (), "", entries, items, containers)
    except (ValueError, RecursionError, _CannotVouch):
        return None
    colon = _FIRST_COLON.match(text)
    comma = _FIRST_COMMA.match(text, start)
    parser.entries, parser.items, parser.containers = entries, items, containers
    parser.colon_ws = colon.group(1) if colon else None
    parser.comma_ws = comma.group(1) if comma else None
    return start, len(text.rstrip(_TRAILING_WS))


def _flatten(
    value: dict[str, object] | list[object],
    path: Segments,
    prefix: str,
    entries: dict[str, Leaf],
    items: list[Item],
    containers: dict[Segments, Kind],
) -> None:
    """``Parser``'s bookkeeping over a decoded container at ``path`` (flat key ``prefix``)."""
    if len(path) >= MAX_DEPTH:
        raise _CannotVouch
    members: Iterable[tuple[str, object]]
    if isinstance(value, dict):
        containers[path] = "object"
        if not value:
            if path:
                items.append(Empty(path, "object"))
            return
        members = value.items()
    else:
        containers[path] = "array"
        if not value:
            items.append(Empty(path, "array"))
            return
        members = ((str(index), member) for index, member in enumerate(value))
    head = prefix + "/" if path else ""
    for key, member in members:
        flat = head + (keypaths.escape(key) if "/" in key or "~" in key else key)
        if isinstance(member, dict | list):
            _flatten(member, (*path, key), flat, entries, items, containers)
        else:
            entries[flat] = cast(Leaf, member)
            items.append(flat)


def parse_document(parser: Parser, path: str, *, empty_reads_as_value: bool = False) -> tuple[int, int]:
    """Run ``parser.document()``; a syntax error becomes a ``FormatError`` naming ``path``."""
    try:
        return parser.document(empty_reads_as_value=empty_reads_as_value)
    except ParseFailure as e:
        line, column = line_column(parser.s, e.pos)
        raise FormatError(path, line, column, e.detail) from None
    except RecursionError:  # defensive: MAX_DEPTH should always trigger first
        raise FormatError(path, None, None, "nesting too deep") from None


def detect_ensure_ascii(text: str) -> bool:
    """Keep writing ``\\uXXXX`` for non-ASCII characters if the file mostly does so already."""
    if "\\u" not in text:  # the usual case, found at memchr speed: the pattern has no literal prefix
        return False
    escapes = sum(1 for _ in NON_ASCII_ESCAPE.finditer(text))
    if not escapes:
        return False
    raw = sum(1 for _ in _RAW_NON_ASCII.finditer(text))
    return escapes > raw


# --- value spans, for formats that splice values in place ----------------------------------


@dataclass(frozen=True)
class Span:
    """Where one JSON value is: ``start``/``end`` of the value, ``key`` of its member name."""

    key: int
    """Start of the member's key string; the value's start for array items and the root."""
    start: int
    end: int


class SpanParser(Parser):
    """``Parser``, also recording the ``Span`` of every value by its raw key path.

    Used by ARB and String Catalogs. ``spans`` is filled as values complete, so a container
    comes after its children; ``containers`` (inherited) tells objects from arrays. ``members``
    lists the top-level members in file order, repeated keys included (see ``allow_duplicates``:
    ``flutter-gallery/intl_en.arb`` has one).
    """

    def __init__(self, text: str, *, allow_duplicates: bool = False) -> None:
        super().__init__(text, allow_duplicates=allow_duplicates)
        self.spans: dict[Segments, Span] = {}
        self.members: list[tuple[str, Span]] = []
        self._string_start = 0

    def string(self, i: int) -> tuple[str, int]:
        self._string_start = i
        return super().string(i)

    def value(self, i: int, path: Segments) -> int:
        in_object = bool(path) and self.containers.get(path[:-1]) == "object"
        key = self._string_start if in_object else i
        end = super().value(i, path)
        span = self.spans[path] = Span(key, i, end)
        if len(path) == 1:
            self.members.append((path[0], span))
        return end


def parse_spans(text: str, path: str, *, allow_duplicates: bool = False) -> tuple[SpanParser, tuple[int, int]]:
    """Run ``SpanParser`` over ``text`` (one JSON object); a syntax error becomes ``FormatError`` naming ``path``."""
    parser = SpanParser(text, allow_duplicates=allow_duplicates)
    return parser, parse_document(parser, path)
