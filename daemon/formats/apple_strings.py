"""Apple ``.strings`` files: ``"key" = "value";`` statements with ``/* */`` and ``//`` comments.

Parsed by a hand-written scanner, because nothing in the standard library reads this format
(``plistlib`` handles XML and binary property lists only, not the old-style text dialect) and
because the daemon needs more than the key/value pairs: the exact span of every key, value and
comment, so that a render replaces only the characters of a changed value, and the line and
column of a syntax error. The scanner follows CoreFoundation's old-style property list rules:

- keys and values are double- or single-quoted strings, or unquoted runs of
  ``[A-Za-z0-9_$/:.-]`` (``NSCameraUsageDescription = "...";``);
- ``"key";`` alone is shorthand for ``"key" = "key";``;
- escapes ``\\"`` ``\\'`` ``\\\\`` ``\\n`` ``\\t`` ``\\r`` ``\\a`` ``\\b`` ``\\f`` ``\\v``,
  ``\\Uxxxx``/``\\uxxxx`` (1 to 4 hex digits; a UTF-16 surrogate pair becomes one character)
  and octal ``\\ooo`` (taken as a code point); any other escaped character stands for itself;
- raw newlines and control characters inside quoted strings are kept as they are;
- a key that occurs twice takes its last value, as CoreFoundation does; a changed value is
  written to that last occurrence, a deleted key loses every occurrence.

Encodings: UTF-16 with a BOM (little or big endian), UTF-16 without a BOM when the first two
bytes show it (one of them zero), otherwise UTF-8 with or without a BOM. A file is written back
in its own encoding, BOM and line endings.

Flat keys are the ``.strings`` keys escaped with ``daemon.keypaths.escape`` (a ``/`` becomes
``~1``), so they never split into nested paths. The format has no plurals (those live in
``.stringsdict`` files, a different format).

Rendering splices the text of the file it renders from (the target, or the source when the
target does not exist yet, which makes a new target a copy of the source's layout and
comments): a changed value replaces only its own quoted string, a deleted key removes its
statement and the comment attached to it, and a new key is inserted after the key that precedes
it in the source, as a copy of the source's statement (spacing, quoting and attached comment).
A comment is attached to a statement when it stands on the line(s) directly above it, with no
blank line in between and no other statement following it before a blank line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats._entries import key_order, leaf_text, same_entries
from daemon.formats._splice import Edit, apply_edits
from daemon.formats._text import LINE_BREAK, UTF8_BOM, ParseFailure, first_line_break, join_surrogates, line_column_cr
from daemon.formats.base import Format, Leaf, ParsedFile

_WS = re.compile(r"[ \t\r\n\v\f\u2028\u2029]*")
_UNQUOTED = re.compile(r"[A-Za-z0-9_$/:.\-]+")
_QUOTED = {
    '"': re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL),
    "'": re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'", re.DOTALL),
}
_ESCAPE = re.compile(r"\\(?:([Uu])([0-9A-Fa-f]{0,4})|([0-7]{1,3})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_NEEDS_ESCAPE = re.compile(r"[\\\"'\x00-\x1f\x7f\ud800-\udfff]")

Span = tuple[int, int]


@dataclass(frozen=True)
class _Statement:
    """One ``key = value;`` statement and the character offsets render needs to edit it."""

    key: str
    """The flat key (``keypaths.escape`` of the decoded key)."""
    key_span: Span
    value_span: Span | None
    """The value token with its quotes; ``None`` for the ``"key";`` shorthand."""
    quote: str
    """The value's quote character, or ``""`` for an unquoted value or the shorthand."""
    block_start: int
    """Where the attached comment starts, else where the key starts."""
    end: int
    """Just after the ``;``, extended over comments that follow on the same line."""
    prev_end: int | None
    """End of the comment or statement before the block (``None``: the block comes first)."""
    next_start: int | None
    """Start of the comment or statement after ``end`` (``None``: nothing follows)."""


@dataclass(frozen=True)
class StringsLayout:
    """The decoded text and the statement spans: what render needs to splice the file."""

    text: str
    encoding: str
    bom: bytes
    newline: str
    raw_newlines: bool
    """Values hold literal line breaks (mastodon-ios) rather than ``\\n`` escapes (iina)."""
    statements: tuple[_Statement, ...]


@dataclass
class _Raw:
    """A statement as scanned, before comments are attached to it."""

    key: str
    key_span: Span
    value_span: Span | None
    quote: str
    start: int
    end: int


class _Scanner:
    """Scans the whole text into statements and comment spans, in file order."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.tokens: list[tuple[int, int, _Raw | None]] = []
        """Every comment (``None``) and statement, as (start, end, statement)."""

    def run(self) -> list[tuple[int, int, _Raw | None]]:
        self.skip(record=True)
        while self.i < len(self.s):
            raw = self.statement()
            self.tokens.append((raw.start, raw.end, raw))
            self.skip(record=True)
        return self.tokens

    def skip(self, *, record: bool = False) -> None:
        """Skip whitespace and comments; at statement level, remember where comments are."""
        s = self.s
        while True:
            m = _WS.match(s, self.i)
            assert m is not None  # the pattern matches the empty string
            self.i = m.end()
            if s.startswith("/*", self.i):
                close = s.find("*/", self.i + 2)
                if close < 0:
                    raise ParseFailure(self.i, "unterminated /* comment")
                end = close + 2
            elif s.startswith("//", self.i):
                m = LINE_BREAK.search(s, self.i)
                end = m.start() if m else len(s)
            else:
                return
            if record:
                self.tokens.append((self.i, end, None))
            self.i = end

    def string(self, what: str) -> tuple[str, Span, str]:
        """A quoted or unquoted string at ``self.i``: (decoded text, span, quote character)."""
        s, i = self.s, self.i
        quote = s[i : i + 1]
        if quote in _QUOTED:
            m = _QUOTED[quote].match(s, i)
            if m is None:
                raise ParseFailure(i, f"unterminated {what} string")
            self.i = m.end()
            return _unescape(s, i + 1, m.end() - 1), (i, m.end()), quote
        m = _UNQUOTED.match(s, i)
        if m is None:
            found = repr(s[i]) if i < len(s) else "end of file"
            raise ParseFailure(i, f"expecting a {what} (a quoted string), found {found}")
        self.i = m.end()
        return m.group(), (i, m.end()), ""

    def statement(self) -> _Raw:
        start = self.i
        key, key_span, _ = self.string("key")
        self.skip()
        c = self.s[self.i : self.i + 1]
        if c == ";":
            self.i += 1
            return _Raw(key, key_span, None, "", start, self.i)
        if c != "=":
            raise ParseFailure(self.i, "expecting '=' or ';' after the key")
        self.i += 1
        self.skip()
        _, value_span, quote = self.string("value")
        self.skip()
        if self.s[self.i : self.i + 1] != ";":
            raise ParseFailure(self.i, "expecting ';' after the value")
        self.i += 1
        return _Raw(key, key_span, value_span, quote, start, self.i)


def _unescape(s: str, start: int, end: int) -> str:
    """Decode the escapes of the string content ``s[start:end]``."""
    body = s[start:end]
    if "\\" not in body:
        return body

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            digits = m.group(2)
            if not digits:
                raise ParseFailure(start + m.start(), f"\\{m.group(1)} must be followed by hex digits")
            return chr(int(digits, 16))
        if m.group(3):
            return chr(int(m.group(3), 8))
        char = m.group(4)
        return _SIMPLE_ESCAPES.get(char, char)

    # \UD83D\UDE00 is one character written as its UTF-16 surrogate pair; lone halves stay
    return join_surrogates(_ESCAPE.sub(one, body))


def _decode(data: bytes, path: str) -> tuple[str, str, bytes]:
    """(text, codec, BOM) of ``data``; a decoding error is a ``FormatError`` at its position."""
    bom = b""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        bom, codec = data[:2], "utf-16-le" if data[0] == 0xFF else "utf-16-be"
    elif len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        codec = "utf-16-be" if data[0] == 0 else "utf-16-le"
    else:
        codec = "utf-8"
        if data.startswith(UTF8_BOM):
            bom = UTF8_BOM
    body = data[len(bom) :]
    try:
        return body.decode(codec), codec, bom
    except UnicodeDecodeError as e:
        good = body[: e.start].decode(codec, "replace")
        line, column = line_column_cr(good, len(good))
        raise FormatError(path, line, column, f"invalid {codec.upper()} data") from None


def _attach(text: str, tokens: list[tuple[int, int, _Raw | None]]) -> list[_Statement]:
    """Turn scanned tokens into statements with their attached comments and neighbours."""
    statements: list[_Statement] = []
    next_statement = [len(tokens)] * (len(tokens) + 1)  # index of the first statement at or after n
    for n in range(len(tokens) - 1, -1, -1):
        next_statement[n] = n if tokens[n][2] is not None else next_statement[n + 1]
    for index, (start, _end, raw) in enumerate(tokens):
        if raw is None:
            continue
        first = index  # index of the first token of the block
        while first > 0 and _comment_attaches(text, tokens, first - 1, next_statement[first]):
            first -= 1
        last = index  # trailing comments on the statement's own line belong to it
        while (
            last + 1 < len(tokens)
            and tokens[last + 1][2] is None
            and not LINE_BREAK.search(text, tokens[last][1], tokens[last + 1][0])
        ):
            last += 1
        statements.append(
            _Statement(
                key=keypaths.escape(raw.key),
                key_span=raw.key_span,
                value_span=raw.value_span,
                quote=raw.quote,
                block_start=tokens[first][0] if first < index else start,
                end=tokens[last][1],
                prev_end=tokens[first - 1][1] if first > 0 else None,
                next_start=tokens[last + 1][0] if last + 1 < len(tokens) else None,
            )
        )
    return statements


def _comment_attaches(text: str, tokens: list[tuple[int, int, _Raw | None]], index: int, statement: int) -> bool:
    """Whether comment token ``index`` belongs to the block of the statement that follows it.

    It must be a comment alone on its line(s), directly above the next token (no blank line),
    and the statement it leads must not be followed by another statement on the next line
    (then the comment heads a group, like iina's ``// Guide Window``, and stays when one
    statement of the group goes).
    """
    start, end, raw = tokens[index]
    if raw is not None:
        return False
    if index > 0 and not LINE_BREAK.search(text, tokens[index - 1][1], start):
        return False  # a trailing comment of the previous line
    if len(LINE_BREAK.findall(text, end, tokens[index + 1][0])) > 1:
        return False
    if statement + 1 >= len(tokens):  # ``statement``: the one that follows the comment
        return True
    after = tokens[statement + 1]
    return after[2] is None or len(LINE_BREAK.findall(text, tokens[statement][1], after[0])) != 1


def _quote(value: str, quote: str, raw_newlines: bool) -> str:
    """``value`` as a quoted ``.strings`` string in the file's style."""
    q = quote or '"'

    def one(m: re.Match[str]) -> str:
        c = m.group()
        if c in ("\\", q):
            return "\\" + c
        if c in "\"'":
            return c
        if c == "\n":
            return "\n" if raw_newlines else "\\n"
        if c in "\t\r":
            return "\\t" if c == "\t" else "\\r"
        return f"\\U{ord(c):04X}"

    return q + _NEEDS_ESCAPE.sub(one, value) + q


class AppleStringsFormat(Format):
    """Apple ``Localizable.strings`` / Interface Builder ``.strings`` files."""

    name: ClassVar[str] = "apple-strings"
    extensions: ClassVar[tuple[str, ...]] = (".strings",)

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        text, codec, bom = _decode(data, path)
        if text.lstrip().startswith(("<?xml", "<plist", "bplist")) or data.startswith(b"bplist"):
            raise FormatError(path, 1, 1, "an XML or binary property list, not a text .strings file")
        try:
            tokens = _Scanner(text).run()
        except ParseFailure as e:
            line, column = line_column_cr(text, e.pos)
            raise FormatError(path, line, column, e.detail) from None
        entries: dict[str, Leaf] = {}
        raw_newline_values = escaped_newline_values = 0
        for _, _, raw in tokens:
            if raw is None:
                continue
            if raw.value_span is None:
                entries[keypaths.escape(raw.key)] = raw.key
                continue
            value_text = text[raw.value_span[0] : raw.value_span[1]]
            raw_newline_values += "\n" in value_text
            escaped_newline_values += "\\n" in value_text
            entries[keypaths.escape(raw.key)] = _unescape(
                text, raw.value_span[0] + bool(raw.quote), raw.value_span[1] - bool(raw.quote)
            )
        layout = StringsLayout(
            text=text,
            encoding=codec,
            bom=bom,
            newline=first_line_break(text),
            raw_newlines=raw_newline_values > escaped_newline_values,
            statements=tuple(_attach(text, tokens)),
        )
        return ParsedFile(entries=entries, raw=data, layout=layout)

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        if target is not None and same_entries(values, target.entries):
            return target.raw
        base = target if target is not None else source
        layout = _layout(base)
        source_layout = _layout(source)
        edits = list(self._changes(values, base.entries, layout))
        inserted, appended = self._insertions(values, source, base, layout, source_layout)
        text = _append(apply_edits(layout.text, edits + inserted), appended, layout)
        return layout.bom + text.encode(layout.encoding)

    @staticmethod
    def _changes(values: Mapping[str, Leaf], current: Mapping[str, Leaf], layout: StringsLayout) -> Iterator[Edit]:
        """Edits for changed values (at the last occurrence) and deleted keys (every occurrence)."""
        last = {st.key: st for st in layout.statements}
        for st in layout.statements:
            if st.key not in values:
                if st.next_start is not None:
                    yield (st.block_start, st.next_start, 0, "")
                else:
                    yield (st.prev_end if st.prev_end is not None else st.block_start, st.end, 0, "")
            elif last[st.key] is st and leaf_text(values[st.key]) != current.get(st.key):
                yield _value_edit(layout.text, st, leaf_text(values[st.key]), layout.raw_newlines)

    @staticmethod
    def _insertions(
        values: Mapping[str, Leaf],
        source: ParsedFile,
        base: ParsedFile,
        layout: StringsLayout,
        source_layout: StringsLayout,
    ) -> tuple[list[Edit], list[tuple[str, str]]]:
        """Edits that add the keys of ``values`` that ``base`` lacks, after their source predecessor.

        When ``base`` keeps no statement to place them by, they come back as (whitespace
        before, block) pairs instead, to be appended once the deletions are done.
        """
        kept = {st.key: st for st in layout.statements if st.key in values}
        source_statements = {st.key: st for st in source_layout.statements}
        order = key_order(values, source, base)
        first_kept = min((st.block_start for st in kept.values()), default=None)
        edits: list[Edit] = []
        appended: list[tuple[str, str]] = []
        anchor: _Statement | None = None
        for sequence, key in enumerate(order, start=1):
            if key in kept:
                anchor = kept[key]
                continue
            block, gap_before, gap_after = _new_block(
                key, leaf_text(values[key]), source_statements.get(key), source_layout
            )
            gap_before = LINE_BREAK.sub(layout.newline, gap_before)
            gap_after = LINE_BREAK.sub(layout.newline, gap_after)
            if anchor is not None:
                edits.append((anchor.end, anchor.end, sequence, gap_before + block))
            elif first_kept is not None:
                edits.append((first_kept, first_kept, sequence, block + gap_after))
            else:
                appended.append((gap_before, block))
        return edits, appended


def _append(text: str, blocks: list[tuple[str, str]], layout: StringsLayout) -> str:
    """``text`` with ``blocks`` after its last non-blank character, then the file's own ending
    (its final line break or none; a new file gets one)."""
    if not blocks:
        return text
    blank = " \t\r\n\v\f\u2028\u2029"
    end = len(text.rstrip(blank))
    added = "".join((gap if n or end else "") + block for n, (gap, block) in enumerate(blocks))
    original = layout.text
    ending = original[len(original.rstrip(blank)) :] if original else layout.newline
    return text[:end] + added + ending


def _value_edit(text: str, st: _Statement, value: str, raw_newlines: bool) -> Edit:
    """The edit that gives statement ``st`` the value ``value``."""
    if st.value_span is None:  # "key"; shorthand
        return (st.key_span[1], st.key_span[1], 0, " = " + _quote(value, '"', raw_newlines))
    return (st.value_span[0], st.value_span[1], 0, _quote(value, st.quote, raw_newlines))


def _new_block(key: str, value: str, model: _Statement | None, source_layout: StringsLayout) -> tuple[str, str, str]:
    """(block text, whitespace before it, whitespace after it) for a new key.

    A copy of the source's statement ``model`` and its attached comment, with the new value; a
    plain ``"key" = "value";`` line when the source does not have the key.
    """
    if model is None:
        statement = _quote(keypaths.unescape(key), '"', False) + " = " + _quote(value, '"', False) + ";"
        return statement, "\n", "\n"
    text = source_layout.text
    if model.value_span is None:
        head, quoted, tail = (
            model.key_span[1],
            " = " + _quote(value, '"', source_layout.raw_newlines),
            model.key_span[1],
        )
    else:
        head, quoted, tail = (
            model.value_span[0],
            _quote(value, model.quote, source_layout.raw_newlines),
            model.value_span[1],
        )
    block = text[model.block_start : head] + quoted + text[tail : model.end]
    gap_before = text[model.prev_end : model.block_start] if model.prev_end is not None else "\n"
    gap_after = text[model.end : model.next_start] if model.next_start is not None else "\n"
    return block, _gap(gap_before), _gap(gap_after)


def _gap(whitespace: str) -> str:
    """Whitespace between two blocks, kept from the last line break on; at least one line break."""
    m = list(LINE_BREAK.finditer(whitespace))
    if not m:
        return "\n"
    first_break = m[0].start()
    return whitespace[first_break:]


def _layout(parsed: ParsedFile) -> StringsLayout:
    if isinstance(parsed.layout, StringsLayout):
        return parsed.layout
    return StringsLayout(text="", encoding="utf-8", bom=b"", newline="\n", raw_newlines=False, statements=())
