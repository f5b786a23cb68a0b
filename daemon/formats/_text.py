"""Bytes, text and positions: the helpers every hand-written format reader needs.

Each format decodes its bytes, keeps the BOM and line endings it found so that a render writes
them back, and reports a syntax error as ``FormatError(path, line, column, detail)``. Those
pieces were written once per format before; they live here so that every format counts lines
and columns the same way and says the same thing about the same broken byte. Private to
``daemon.formats``: how formats are built, not part of the ``Format`` contract.

Two line-counting rules exist on purpose. The JSON, YAML, PO and Markdown readers count ``\\n``
only, as ``json.loads`` reports positions (a lone ``\\r`` does not end a line there);
Apple ``.strings`` and Java ``.properties`` count ``\\r\\n``, ``\\r`` and ``\\n``, because both
formats accept a lone ``\\r`` as a line break.
"""

from __future__ import annotations

import re

from daemon.errors import FormatError

UTF8_BOM = b"\xef\xbb\xbf"
LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""Any line break: CRLF, lone CR or LF."""
NON_ASCII_ESCAPE = re.compile(
    r"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})"
)
"""A ``\\uXXXX`` escape (not itself preceded by an escaping backslash) of a non-ASCII character,
as JSON and Java ``.properties`` write them: a file full of these keeps being written that way."""


class ParseFailure(Exception):
    """A syntax error at an offset of the text being read (a byte offset for the XML scanner).

    Raised deep inside a format's reader, where the path is not known, and turned into
    ``FormatError`` with a line and column by that format's ``parse``.
    """

    def __init__(self, pos: int, detail: str) -> None:
        super().__init__(detail)
        self.pos = pos
        self.detail = detail


def line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of offset ``pos``; only ``\\n`` ends a line (as ``json`` counts)."""
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def line_column_cr(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``pos``; ``\\r\\n``, ``\\r`` and ``\\n`` end lines."""
    line = 1
    line_start = 0
    for m in LINE_BREAK.finditer(text, 0, pos):
        line += 1
        line_start = m.end()
    return line, pos - line_start + 1


def decode_utf8(data: bytes, path: str) -> tuple[str, bool]:
    """(text, had a BOM) of UTF-8 ``data``; an invalid byte is a ``FormatError`` at its place."""
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if bom else data
    try:
        return body.decode("utf-8"), bom
    except UnicodeDecodeError as e:
        good = body[: e.start].decode("utf-8")
        line, column = line_column(good, len(good))
        raise FormatError(path, line, column, f"invalid UTF-8 byte 0x{body[e.start]:02x}") from None


def newline_of(text: str) -> str:
    """``\\r\\n`` when the first ``\\n`` of ``text`` follows a ``\\r``, else ``\\n`` (also for one-line files)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def first_line_break(text: str) -> str:
    """The first line break of ``text`` as written (``\\r\\n``, ``\\r`` or ``\\n``); ``\\n`` if it has none."""
    m = LINE_BREAK.search(text)
    return m.group() if m else "\n"


def join_surrogates(text: str) -> str:
    """Join UTF-16 surrogate pairs that escapes produced (``\\uD83D\\uDE00``) into one character.

    Lone surrogates stay as they are (the Android reader, whose values go into XML, replaces
    them instead).
    """
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def utf16_escape(char: str) -> str:
    """``char`` as ``\\uXXXX`` escapes of its UTF-16 code units (two for a character above U+FFFF)."""
    units = char.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{units[n] << 8 | units[n + 1]:04X}" for n in range(0, len(units), 2))
