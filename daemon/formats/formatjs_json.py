"""FormatJS / react-intl message files, and a checker for ICU MessageFormat syntax.

Two shapes exist, and both are read and written here:

- compiled (flat): ``{"checkout.title": "Pay {amount}"}``, what ``formatjs compile`` and most
  translation tools write for each locale;
- extracted: ``{"checkout.title": {"defaultMessage": "Pay {amount}", "description": "…"}}``,
  what ``formatjs extract`` writes for the source locale. The other extract formatters are
  read too: ``message`` (Crowdin, and Docusaurus' ``code.json``), ``string`` (Transifex, and
  saleor's ``{"context", "string"}``) and ``translation`` (Lokalise) hold the message.

Each message is one entry keyed by its id (one key segment, ``/`` escaped as ``~1``) whose
value is the message text. The other fields of an extracted message (``description``,
``context``…) are not entries: they are for translators, never translated, and are written
back as they were. An id new to a target takes the target's shape (a compiled target stays
flat); a new target takes the source's shape, descriptions included.

The JSON itself is parsed and written by ``JsonFormat`` (same fidelity, same errors); this
module maps ids to file keys and orders a message's fields together. On top of that, every
message must be valid ICU MessageFormat, checked by ``icu_problems``: hand-written, since
no ICU parser is installed, and since it only needs to find syntax errors, not to format.
A file with a broken message raises ``FormatError`` at the line and column where that message
starts in the file. To find it, JsonFormat's parser is run once more with a hook that notes
where values start: only on error, so the common path parses once.

Not handled: the compiled AST form (``formatjs compile --ast``), Smartling's top-level
``"smartling"`` metadata object, and the balance of rich-text tags (``<b>…</b>``), which
FormatJS checks at runtime but ICU does not define.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats._entries import key_order
from daemon.formats._json import Item, Parser, Segments
from daemon.formats._text import UTF8_BOM, line_column
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.i18next_json import CATEGORIES
from daemon.formats.json_format import JsonFormat, JsonLayout, render_json_in_order

MESSAGE_FIELDS: tuple[str, ...] = ("defaultMessage", "message", "string", "translation")
"""Fields that hold the message in an extracted file, by precedence."""

# --- ICU MessageFormat syntax -------------------------------------------------------------

MAX_ICU_NESTING = 32
"""Deepest argument nesting checked; real messages nest 2 or 3 levels."""

_SIMPLE_TYPES = frozenset({"number", "date", "time", "spellout", "ordinal", "duration"})
_BRANCHING_TYPES = frozenset({"plural", "select", "selectordinal"})
# An ICU identifier: no white space and no (ASCII) Pattern_Syntax character; "_" is allowed.
_IDENTIFIER = re.compile(r"[^\s!-/:-@\[-^`{-~]+")
_WHITESPACE = re.compile(r"\s*")
_OFFSET = re.compile(r"offset\s*:\s*")
_INTEGER = re.compile(r"[-+]?[0-9]+")
_EXACT = re.compile(r"=[-+]?[0-9]+(?:\.[0-9]+)?")


class _Broken(Exception):
    """Internal: a syntax error after which the rest of the message cannot be read."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(detail)
        self.offset = offset
        self.detail = detail


class _IcuChecker:
    """Recursive-descent reader of one message that records problems instead of building a tree.

    Follows the FormatJS parser: an apostrophe quotes when it precedes ``{ } < >`` (or ``#``
    inside a plural branch), ``''`` is one apostrophe, other apostrophes are literal.
    """

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.problems: list[tuple[int, str]] = []

    def run(self) -> list[tuple[int, str]]:
        try:
            self.message(0, depth=0, plural=False)
        except _Broken as e:
            self.problems.append((e.offset, e.detail))
        return sorted(self.problems)

    def skip_ws(self, i: int) -> int:
        m = _WHITESPACE.match(self.s, i)
        assert m is not None  # matches the empty string
        return m.end()

    def identifier(self, i: int) -> int:
        m = _IDENTIFIER.match(self.s, i)
        return m.end() if m else i

    def message(self, i: int, *, depth: int, plural: bool) -> int:
        """Read message text from ``i``; return the offset of the ``}`` ending it, or the end."""
        s = self.s
        while i < self.n:
            c = s[i]
            if c == "'":
                i = self.apostrophe(i, plural=plural)
            elif c == "{":
                i = self.argument(i, depth=depth + 1)
            elif c == "}" and depth:
                return i
            else:
                if c == "}":
                    self.problems.append((i, "unmatched '}'"))
                i += 1
        return i

    def apostrophe(self, i: int, *, plural: bool) -> int:
        """Skip a quoted literal starting at ``i``, or the lone apostrophe at ``i``."""
        after = self.s[i + 1 : i + 2]
        if after == "'":
            return i + 2
        if not after or not (after in "{}<>" or (after == "#" and plural)):
            return i + 1
        j = i + 2
        while j < self.n:
            if self.s[j] == "'":
                if self.s[j + 1 : j + 2] != "'":
                    return j + 1
                j += 1
            j += 1
        self.problems.append((i, "this apostrophe quotes the rest of the message; write '' for a literal apostrophe"))
        return self.n

    def expect_open(self, open_at: int, j: int) -> None:
        if j >= self.n:
            raise _Broken(open_at, "'{' is never closed")

    def argument(self, open_at: int, *, depth: int) -> int:
        """Read ``{name}``, ``{name, type[, style]}`` or ``{name, plural|select…, branches}``."""
        if depth > MAX_ICU_NESTING:
            raise _Broken(open_at, f"arguments nested deeper than {MAX_ICU_NESTING} levels")
        j = self.skip_ws(open_at + 1)
        self.expect_open(open_at, j)
        end = self.identifier(j)
        if end == j:
            raise _Broken(j, "expected an argument name")
        j = self.skip_ws(end)
        self.expect_open(open_at, j)
        if self.s[j] == "}":
            return j + 1
        if self.s[j] != ",":
            raise _Broken(j, "expected ',' or '}' after the argument name")
        j = self.skip_ws(j + 1)
        end = self.identifier(j)
        kind = self.s[j:end]
        if kind in _BRANCHING_TYPES:
            return self.branches(open_at, self.skip_ws(end), kind=kind, depth=depth)
        if kind not in _SIMPLE_TYPES:
            self.expect_open(open_at, j)
            raise _Broken(j, f"unknown argument type {kind!r}" if kind else "expected an argument type")
        j = self.skip_ws(end)
        self.expect_open(open_at, j)
        if self.s[j] == "}":
            return j + 1
        if self.s[j] != ",":
            raise _Broken(j, "expected ',' or '}' after the argument type")
        return self.style(open_at, self.skip_ws(j + 1))

    def style(self, open_at: int, j: int) -> int:
        """Skip an argument style (``currency``, ``::percent``) up to the ``}`` closing the argument."""
        if self.s[j : j + 1] == "}":
            raise _Broken(j, "expected an argument style after ','")
        nesting = 0
        while j < self.n:
            c = self.s[j]
            if c == "'":
                close = self.s.find("'", j + 1)
                if close < 0:
                    raise _Broken(j, "unclosed quote in the argument style")
                j = close
            elif c == "{":
                nesting += 1
            elif c == "}":
                if not nesting:
                    return j + 1
                nesting -= 1
            j += 1
        raise _Broken(open_at, "'{' is never closed")

    def branches(self, open_at: int, j: int, *, kind: str, depth: int) -> int:
        """Read ``, [offset:n] selector {message} … }`` after a plural, select or selectordinal type."""
        if self.s[j : j + 1] != ",":
            self.expect_open(open_at, j)
            raise _Broken(j, f"expected ',' after {kind!r}")
        j = self.skip_ws(j + 1)
        plural = kind != "select"
        if plural and (offset := _OFFSET.match(self.s, j)):
            number = _INTEGER.match(self.s, offset.end())
            if number is None:
                raise _Broken(offset.end(), "expected an integer after 'offset:'")
            j = self.skip_ws(number.end())
        seen: set[str] = set()
        while True:
            self.expect_open(open_at, j)
            if self.s[j] == "}":
                break
            j = self.branch(open_at, j, kind=kind, depth=depth, seen=seen)
        if not seen:
            raise _Broken(j, f"{kind} argument without branches")
        if "other" not in seen:
            self.problems.append((open_at, f"{kind} argument without an 'other' branch"))
        return j + 1

    def branch(self, open_at: int, j: int, *, kind: str, depth: int, seen: set[str]) -> int:
        """Read one ``selector {message}``; return the offset after it and its white space."""
        plural = kind != "select"
        exact = _EXACT.match(self.s, j) if plural else None
        end = exact.end() if exact else self.identifier(j)
        selector = self.s[j:end]
        if not selector:
            raise _Broken(j, "expected a selector or '}'")
        if plural and not exact and selector not in CATEGORIES:
            self.problems.append((j, f"{selector!r} is not a plural category ({', '.join(CATEGORIES)} or =N)"))
        if selector in seen:
            self.problems.append((j, f"duplicate selector {selector!r}"))
        seen.add(selector)
        j = self.skip_ws(end)
        self.expect_open(open_at, j)
        if self.s[j] != "{":
            raise _Broken(j, f"expected '{{' after the selector {selector!r}")
        close = self.message(j + 1, depth=depth, plural=plural)
        if close >= self.n:
            raise _Broken(j, "'{' is never closed")
        return self.skip_ws(close + 1)


def icu_problems(message: str) -> list[str]:
    """Syntax problems of one ICU MessageFormat message, each ending with its 1-based character position.

    Checked: balanced braces, argument names and types, ``plural``/``select``/
    ``selectordinal`` branches (an ``other`` branch, no duplicates, CLDR categories or ``=N``
    in plurals), ``#`` and apostrophe quoting. An apostrophe that quotes to the end of the
    message is reported although ICU accepts it: it swallows the placeholders after it
    (French ``l'{count}``), which is never what a translator meant. Empty list: valid.
    """
    return [f"{detail} (at character {offset + 1})" for offset, detail in _IcuChecker(message).run()]


# --- the file format ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    """Where one message lives in a file: its value's file key, the field holding it, all its items."""

    json_key: str
    field: str | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class FormatJsLayout:
    """The file as ``JsonFormat`` parsed it, and how each message is stored in it."""

    json: ParsedFile
    messages: Mapping[str, _Message]

    @property
    def shape(self) -> str | None:
        """The message field of the file's first message (None: flat); used for ids the file lacks."""
        return next(iter(self.messages.values())).field if self.messages else None


class _Positions(Parser):
    """JsonFormat's parser, also noting where each value starts (run only to report an error)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.starts: dict[Segments, int] = {}

    def value(self, i: int, path: Segments) -> int:
        self.starts.setdefault(path, i)
        return super().value(i, path)


def _position(data: bytes, path: Segments) -> tuple[int | None, int | None]:
    """1-based line and column where the value at ``path`` starts in a file JsonFormat accepted."""
    text = data.removeprefix(UTF8_BOM).decode("utf-8")
    parser = _Positions(text)
    parser.value(parser.skip_ws(0), ())
    start = parser.starts.get(path)
    return line_column(text, start) if start is not None else (None, None)


def _first_segment(item: Item) -> str:
    return item.split("/", 1)[0] if isinstance(item, str) else keypaths.join(list(item.path[:1]))


def _read_message(key: str, items: list[Item], entries: Mapping[str, Leaf]) -> _Message | str:
    """How message ``key`` is stored, or what is wrong with it."""
    if items == [key]:
        return _Message(key, None, (key,)) if isinstance(entries[key], str) else "a message must be a string"
    for field in MESSAGE_FIELDS:
        json_key = f"{key}/{keypaths.escape(field)}"
        if isinstance(entries.get(json_key), str):
            return _Message(json_key, field, tuple(items))
    return f"expected a string, or an object with one of {', '.join(MESSAGE_FIELDS)}"


def _split(parsed: ParsedFile) -> tuple[ParsedFile, Mapping[str, _Message]]:
    """The JSON-level view of a parsed file (one parsed elsewhere counts as flat)."""
    if isinstance(parsed.layout, FormatJsLayout):
        return parsed.layout.json, parsed.layout.messages
    return parsed, {key: _Message(key, None, (key,)) for key in parsed.entries}


def _shape(*files: ParsedFile | None) -> str | None:
    """The message field (None: flat) of the first of ``files`` that holds a message."""
    for parsed in files:
        if parsed is not None and isinstance(parsed.layout, FormatJsLayout) and parsed.layout.messages:
            return parsed.layout.shape
    return None


class FormatJsFormat(JsonFormat):
    """FormatJS / react-intl messages, compiled (``id: message``) or extracted (``id: {defaultMessage}``)."""

    name: ClassVar[str] = "formatjs"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        parsed = super().parse(data, path=path, locale=locale)
        assert isinstance(parsed.layout, JsonLayout)
        grouped: dict[str, list[Item]] = {}
        for item in parsed.layout.items:
            grouped.setdefault(_first_segment(item), []).append(item)
        entries: dict[str, Leaf] = {}
        messages: dict[str, _Message] = {}
        for key, items in grouped.items():
            message = _read_message(key, items, parsed.entries)
            if isinstance(message, str):
                raise self._error(
                    data, path, (keypaths.unescape(key),), f"message {keypaths.unescape(key)!r}: {message}"
                )
            text = parsed.entries[message.json_key]
            assert isinstance(text, str)
            problems = icu_problems(text)
            if problems:
                where = tuple(keypaths.split(message.json_key))
                raise self._error(data, path, where, f"message {keypaths.unescape(key)!r}: {'; '.join(problems)}")
            entries[key] = text
            messages[key] = message
        return ParsedFile(entries=entries, raw=data, layout=FormatJsLayout(parsed, messages))

    @staticmethod
    def _error(data: bytes, path: str, where: Segments, detail: str) -> FormatError:
        line, column = _position(data, where)
        return FormatError(path, line, column, detail)

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        entry_order = key_order(values, source, target)
        if (
            target is not None
            and dict(values) == target.entries
            and list(target.entries) in (list(values), entry_order)
        ):
            return target.raw
        src_json, src_messages = _split(source)
        tgt_json, tgt_messages = _split(target) if target is not None else (None, {})
        new_field = _shape(target, source)
        json_values: dict[str, Leaf] = {}
        order: list[Item] = []
        for key in entry_order:
            if key in tgt_messages and tgt_json is not None:
                items = self._fields(tgt_messages[key], values[key], tgt_json, json_values)
            elif key in src_messages and (target is None or src_messages[key].field == new_field):
                items = self._fields(src_messages[key], values[key], src_json, json_values)
            else:
                items = self._new_message(key, values[key], new_field, json_values)
            order += items
        return render_json_in_order(self, json_values, order, src_json, tgt_json)

    @staticmethod
    def _fields(message: _Message, value: Leaf, holder: ParsedFile, out: dict[str, Leaf]) -> list[Item]:
        """A message stored as in ``holder``: ``value`` in its message field, its other fields copied."""
        for item in message.items:
            if isinstance(item, str):
                out[item] = value if item == message.json_key else holder.entries[item]
        return list(message.items)

    @staticmethod
    def _new_message(key: str, value: Leaf, field: str | None, out: dict[str, Leaf]) -> list[Item]:
        """A message neither file stores in the wanted shape: its bare value, flat or in ``field``."""
        if len(keypaths.split(key)) != 1:
            raise ValueError(f"FormatJS message ids are one key segment; got {key!r}")
        json_key = key if field is None else f"{key}/{keypaths.escape(field)}"
        out[json_key] = value
        return [json_key]
