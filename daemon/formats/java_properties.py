"""Java ``.properties`` resource bundles: ``key=value``, ``key: value`` or ``key value`` lines.

Parsed by a hand-written reader that follows ``java.util.Properties.load`` rule for rule:
comment lines start with ``#`` or ``!``; a line ending in an odd number of backslashes continues
on the next line, whose leading whitespace is dropped; the key ends at the first unescaped
``=``, ``:`` or whitespace; escapes are ``\\uXXXX``, ``\\t``, ``\\n``, ``\\r``, ``\\f``, and a
backslash before any other character stands for that character (``\\ ``, ``\\:``, ``\\=``,
``\\#``). The only syntax error, as in Java, is a malformed ``\\uXXXX``. It is hand-written
because the standard library has no ``.properties`` reader (``configparser`` is a different
format), and because rendering needs the character span of every key and value to replace a
changed value and nothing else: separators (``=``, ``:``, padding such as ``Util.hour  =``),
continuation layout, comments and blank lines stay as they are for every unchanged entry.

Encoding: UTF-8 when the bytes are valid UTF-8, else ISO-8859-1, the order Java 9+ uses for
``PropertyResourceBundle``. A file is written back in its own encoding (and UTF-8 BOM) with the
characters that encoding cannot hold as ``\\uXXXX`` escapes (UTF-16 code units, as Java reads
them). An ASCII-only file that already writes non-ASCII characters as ``\\uXXXX`` keeps doing so.
A key that occurs twice takes its last value, as in Java; a changed value is written to that
last occurrence and a deleted key loses every occurrence.

Flat keys are the property keys escaped with ``daemon.keypaths.escape`` (``%0/%1 entries``
becomes ``%0~11 entries``): dots are not nesting. A changed value is written on one line,
starting where the old value started (so ``key=\\`` followed by an indented value keeps that
shape). Rendering splices the text of the file it renders from: the target, or the source for
a new target, which then starts as a copy of the source's comments and layout. A new key goes
after the key that precedes it in the source, as a copy of the source line's key and separator.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats._entries import key_order, leaf_text, same_entries
from daemon.formats._splice import Edit, apply_edits
from daemon.formats._text import (
    LINE_BREAK,
    NON_ASCII_ESCAPE,
    UTF8_BOM,
    ParseFailure,
    first_line_break,
    join_surrogates,
    line_column_cr,
    utf16_escape,
)
from daemon.formats.base import Format, Leaf, ParsedFile

_NATURAL_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")
_SPACE = " \t\f"
_UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_ESCAPE = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class _Entry:
    """One property and the character offsets render needs to edit or remove it."""

    key: str
    """The flat key (``keypaths.escape`` of the decoded key)."""
    start: int
    """Start of its first line."""
    value_start: int
    """Where the value starts (after the separator and any continuation before it)."""
    end: int
    """End of its last line's content (before the line terminator)."""
    next_start: int
    """Start of the line after it (``== end`` when it ends the file without a terminator)."""


@dataclass(frozen=True)
class PropertiesLayout:
    """The decoded text and entry spans: what render needs to splice the file."""

    text: str
    encoding: str
    """``utf-8`` or ``iso-8859-1``."""
    bom: bool
    newline: str
    ascii_escapes: bool
    """Write non-ASCII characters as ``\\uXXXX`` (an ASCII file that already does)."""
    entries: tuple[_Entry, ...]


class _Logical:
    """One logical line: its pieces joined, and a map back to offsets in the file's text."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []  # logical offset where each piece starts
        self.raw: list[int] = []  # text offset where each piece starts
        self.length = 0

    def add(self, text: str, start: int, end: int) -> None:
        self.parts.append(text[start:end])
        self.starts.append(self.length)
        self.raw.append(start)
        self.length += end - start

    def text_offset(self, index: int) -> int:
        """Offset in the file's text of logical offset ``index`` (``length`` maps to the end)."""
        n = bisect.bisect_right(self.starts, index) - 1
        return self.raw[n] + index - self.starts[n]


def _natural_lines(text: str) -> list[tuple[int, int, int]]:
    """(start, content end, next line start) of every line; ``\r\n``, ``\r`` and ``\n`` end lines."""
    lines = []
    pos = 0
    while pos < len(text):
        m = _NATURAL_LINE.match(text, pos)
        assert m is not None  # the pattern matches at any offset
        lines.append((pos, m.end(1), m.end()))
        pos = m.end()
    return lines


def _skip_space(text: str, i: int, end: int) -> int:
    while i < end and text[i] in _SPACE:
        i += 1
    return i


def _continues(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends in an odd number of backslashes."""
    n = end
    while n > start and text[n - 1] == "\\":
        n -= 1
    return (end - n) % 2 == 1


def _split(line: str) -> tuple[int, int]:
    """(key length, value start) of a logical line, as ``Properties.load`` finds them."""
    key_len, value_start, has_sep, backslash = 0, len(line), False, False
    while key_len < len(line):
        c = line[key_len]
        if c in "=:" and not backslash:
            value_start, has_sep = key_len + 1, True
            break
        if c in _SPACE and not backslash:
            value_start = key_len + 1
            break
        backslash = c == "\\" and not backslash
        key_len += 1
    while value_start < len(line):
        c = line[value_start]
        if c not in _SPACE:
            if has_sep or c not in "=:":
                break
            has_sep = True
        value_start += 1
    return key_len, value_start


def _unescape(line: str, start: int, end: int, logical: _Logical) -> str:
    """Decode the escapes of ``line[start:end]``; a malformed ``\\uXXXX`` fails at its backslash."""
    chunk = line[start:end]
    if "\\" not in chunk:
        return chunk
    out: list[str] = []
    i = start
    while i < end:
        c = line[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        if i >= end:
            break
        c = line[i]
        i += 1
        if c == "u":
            digits = line[i : i + 4]
            if i + 4 > end or not set(digits) <= _HEX:
                raise ParseFailure(logical.text_offset(i - 2), "malformed \\uXXXX escape")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(_UNESCAPE.get(c, c))
    return join_surrogates("".join(out))  # Java strings are UTF-16: join escaped pairs


def _logical_line(text: str, lines: list[tuple[int, int, int]], n: int, first: int) -> tuple[_Logical, int]:
    """The logical line starting at ``first`` on line ``n``, and the index of the line after it.

    A line ending in an odd number of backslashes goes on with the next line, minus that
    backslash and the next line's leading whitespace.
    """
    logical = _Logical()
    piece_start = first
    while True:
        line_end = lines[n][1]
        more = _continues(text, piece_start, line_end)
        logical.add(text, piece_start, line_end - 1 if more else line_end)
        n += 1
        if not more or n >= len(lines):
            return logical, n
        piece_start = _skip_space(text, lines[n][0], lines[n][1])


def _read(text: str) -> tuple[dict[str, Leaf], list[_Entry]]:
    """All properties of ``text`` in file order, with their spans."""
    lines = _natural_lines(text)
    entries: dict[str, Leaf] = {}
    spans: list[_Entry] = []
    n = 0
    while n < len(lines):
        start, end, _ = lines[n]
        first = _skip_space(text, start, end)
        if first == end or text[first] in "#!" or (text[first:end] == "\\" and n + 1 < len(lines)):
            # a lone backslash continues an empty line: Java then reads the next line afresh
            # (on the last line, Java's reader returns it as an empty property instead)
            n += 1
            continue
        logical, n = _logical_line(text, lines, n, first)
        line = "".join(logical.parts)
        key_len, value_start = _split(line)
        key = keypaths.escape(_unescape(line, 0, key_len, logical))
        entries.pop(key, None)  # a repeated key moves to its last place, like its value
        entries[key] = _unescape(line, value_start, len(line), logical)
        last = lines[n - 1]
        spans.append(_Entry(key, start, logical.text_offset(value_start), last[1], last[2]))
    return entries, spans


def _decode(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding, BOM): UTF-8 when valid, else ISO-8859-1 (which decodes any bytes)."""
    bom = data.startswith(UTF8_BOM)
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "utf-8", bom
    except UnicodeDecodeError:
        return data.decode("iso-8859-1"), "iso-8859-1", False


def _writable(c: str, layout: PropertiesLayout) -> bool:
    """Whether ``c`` can stand as itself in the file (else it is written as ``\\uXXXX``)."""
    code = ord(c)
    if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
        return False
    if layout.ascii_escapes or layout.encoding != "utf-8":
        return code < 0x80 or (not layout.ascii_escapes and 0xA0 <= code < 0x100)
    return True


def _escape(value: str, layout: PropertiesLayout, *, key: bool) -> str:
    """``value`` written for a ``.properties`` file: as little escaping as Java needs to read it back."""
    out: list[str] = []
    for n, c in enumerate(value):
        if c in _ESCAPE:
            out.append(_ESCAPE[c])
        elif c == " " and (key or n == 0):
            out.append("\\ ")
        elif (key and c in "=:") or (n == 0 and c in ("=:#!" if key else "=:")):
            out.append("\\" + c)  # a leading = or : of a value would be read as a separator
        elif _writable(c, layout):
            out.append(c)
        else:
            out.append(utf16_escape(c))
    return "".join(out)


class JavaPropertiesFormat(Format):
    """Java ``ResourceBundle`` ``.properties`` files (UTF-8 or ISO-8859-1)."""

    name: ClassVar[str] = "properties"
    extensions: ClassVar[tuple[str, ...]] = (".properties",)

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        text, encoding, bom = _decode(data)
        try:
            entries, spans = _read(text)
        except ParseFailure as e:
            line, column = line_column_cr(text, e.pos)
            raise FormatError(path, line, column, e.detail) from None
        layout = PropertiesLayout(
            text=text,
            encoding=encoding,
            bom=bom,
            newline=first_line_break(text),
            ascii_escapes=text.isascii() and NON_ASCII_ESCAPE.search(text) is not None,
            entries=tuple(spans),
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
        edits = list(_changes(values, base.entries, layout))
        edits += _insertions(values, source, base, layout)
        text = apply_edits(layout.text, edits)
        return (UTF8_BOM if layout.bom else b"") + text.encode(layout.encoding)


def _changes(values: Mapping[str, Leaf], current: Mapping[str, Leaf], layout: PropertiesLayout) -> Iterator[Edit]:
    """Edits for changed values (at the last occurrence) and deleted keys (every line of them)."""
    text = layout.text
    last = {entry.key: entry for entry in layout.entries}
    for entry in layout.entries:
        if entry.key not in values:
            yield _deletion(text, entry)
        elif last[entry.key] is entry and leaf_text(values[entry.key]) != current.get(entry.key):
            yield (entry.value_start, entry.end, 0, _escape(leaf_text(values[entry.key]), layout, key=False))


def _deletion(text: str, entry: _Entry) -> Edit:
    """The edit that removes ``entry``'s lines (and one blank line, if it stood between two)."""
    if entry.next_start == entry.end:  # it ends the file without a line break: take the one before
        return (entry.start - _break_before(text, entry.start), entry.end, 0, "")
    end = entry.next_start
    previous = entry.start - _break_before(text, entry.start)
    previous_start = max(text.rfind("\n", 0, previous), text.rfind("\r", 0, previous)) + 1
    if entry.start > 0 and not text[previous_start:previous].strip(_SPACE):
        m = _NATURAL_LINE.match(text, end)
        if m is not None and m.group(2) and not m.group(1).strip(_SPACE):
            end = m.end()
    return (entry.start, end, 0, "")


def _break_before(text: str, start: int) -> int:
    """Length of the line break that ends just before ``start`` (0 at the start of the text)."""
    if text.endswith("\r\n", 0, start):
        return 2
    return 1 if start > 0 and text[start - 1] in "\r\n" else 0


def _insertions(
    values: Mapping[str, Leaf], source: ParsedFile, base: ParsedFile, layout: PropertiesLayout
) -> list[Edit]:
    """Edits that add the keys of ``values`` that ``base`` lacks, after their source predecessor."""
    kept = {entry.key: entry for entry in layout.entries if entry.key in values}
    source_layout = _layout(source)
    models = {entry.key: entry for entry in source_layout.entries}
    order = key_order(values, source, base)
    first_kept = min((entry.start for entry in kept.values()), default=None)
    edits: list[Edit] = []
    anchor: _Entry | None = None
    nl = layout.newline
    for sequence, key in enumerate(order, start=1):
        if key in kept:
            anchor = kept[key]
            continue
        line = _new_line(key, leaf_text(values[key]), models.get(key), source_layout, layout)
        if anchor is not None:
            edits.append((anchor.end, anchor.end, sequence, nl + line))
        elif first_kept is not None:
            edits.append((first_kept, first_kept, sequence, line + nl))
        else:
            end = len(layout.text)
            needs_break = end > 0 and layout.text[-1] not in "\r\n"
            edits.append((end, end, sequence, (nl if needs_break else "") + line + nl))
    return edits


def _new_line(
    key: str, value: str, model: _Entry | None, source_layout: PropertiesLayout, layout: PropertiesLayout
) -> str:
    """A new property line: the source line's key and separator when they fit the target's encoding."""
    escaped = _escape(value, layout, key=False)
    if model is not None:
        head = source_layout.text[model.start : model.value_start]
        head = LINE_BREAK.sub(layout.newline, head)
        if all(_writable(c, layout) or c in "\r\n\t\f" for c in head):
            return head + escaped
    return _escape(keypaths.unescape(key), layout, key=True) + "=" + escaped


def _layout(parsed: ParsedFile) -> PropertiesLayout:
    if isinstance(parsed.layout, PropertiesLayout):
        return parsed.layout
    return PropertiesLayout(text="", encoding="utf-8", bom=False, newline="\n", ascii_escapes=False, entries=())
