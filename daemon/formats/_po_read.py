"""Reading gettext PO/POT files: the line scanner and the entries it finds.

The scanner reads a file line by line and keeps the offset of every field and comment line
(``Field``, ``Line``, ``Entry``), so that the writer (``daemon.formats._po_write``) can edit
only the fields that change; it fails at the first line GNU gettext would reject, with the
line and column. ``gettext_po``'s docstring says why polib is not used.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats._text import UTF8_BOM, ParseFailure, line_column, newline_of
from daemon.formats.base import Leaf

CONTEXT_SEPARATOR = "\x04"
WRAP_WIDTH = 79
"""msgmerge's default width; a wrapping file gets new strings wrapped the same way."""

_PO_LINE = re.compile(
    r"[ \t]*(?:"
    r"(?P<comment>#[^\n]*)"
    r'|(?P<keyword>msgctxt|msgid_plural|msgid|msgstr(?:\[(?P<index>\d+)\])?)[ \t]*"(?P<value>[^"\\\n]*(?:\\.[^"\\\n]*)*)"[ \t\r]*'
    r'|"(?P<more>[^"\\\n]*(?:\\.[^"\\\n]*)*)"[ \t\r]*'
    r"|(?P<blank>\r?)"
    r"|[^\n]*"
    r")(?:\n|\Z)"
)
"""One line of a PO file: a comment, a keyword and its string, a continuation string, a blank
line, or anything else (an error, diagnosed by ``_Scanner.diagnose``)."""
_KEYWORD = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)(?=[ \t\"])")
_STRING = re.compile(r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"')
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,8})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
    "\\": "\\", '"': '"', "'": "'", "?": "?",
}  # fmt: skip
_CHARSET = re.compile(rb"Content-Type:[^\"\\\n]*charset=([A-Za-z0-9_.:-]+)")
_PROBE = 'msgid "\\n"\n#:,[]'
"""The characters the scanner relies on; a charset must encode them as ASCII does."""


# --- the scanned file ------------------------------------------------------------------------


@dataclass(eq=False)
class Field:
    """One keyword and its strings: ``msgstr[1] "a"`` and its continuation lines."""

    keyword: str
    index: int | None
    value: str
    start: int
    """Offset of the keyword (after the line's indentation and any ``#~ `` prefix)."""
    end: int
    """Offset just after the closing quote of the last string."""
    newline: str
    """The line ending of the keyword's line (PO files may mix them)."""
    lines: int = 1


@dataclass(eq=False)
class Line:
    start: int
    end: int
    """Just after the line ending."""
    text: str
    """The line without its ending."""


@dataclass(eq=False)
class Entry:
    """One message: its comment lines, fields and where it sits in the text."""

    comments: list[Line] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    named: dict[str, Field] = field(default_factory=dict)
    msgstrs: list[Field] = field(default_factory=list)
    end: int = 0
    """Just after the line ending of the last field's last line."""
    obsolete: bool = False
    key: str = ""
    """Set by the scanner once the entry is complete (see ``make_key``)."""

    @property
    def start(self) -> int:
        return self.comments[0].start if self.comments else self.fields[0].start

    def add(self, f: Field) -> None:
        self.fields.append(f)
        self.named[f.keyword] = f
        if f.keyword.startswith("msgstr"):
            self.msgstrs.append(f)

    def get(self, keyword: str) -> Field | None:
        return self.named.get(keyword)

    @property
    def msgctxt(self) -> str | None:
        f = self.get("msgctxt")
        return f.value if f else None

    @property
    def msgid(self) -> str:
        f = self.get("msgid")
        return f.value if f else ""

    @property
    def msgid_plural(self) -> str | None:
        f = self.get("msgid_plural")
        return f.value if f else None

    @property
    def flags(self) -> list[str]:
        return [
            flag.strip() for line in self.comments if line.text.startswith("#,") for flag in line.text[2:].split(",")
        ]

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def make_key(self) -> str:
        """The entry's flat key: its msgid, after its msgctxt and EOT if it has one."""
        ctxt = self.msgctxt
        return keypaths.escape(self.msgid if ctxt is None else ctxt + CONTEXT_SEPARATOR + self.msgid)


@dataclass(frozen=True)
class PoLayout:
    text: str
    bom: bool
    encoding: str
    entries: list[Entry]
    """Active (not obsolete) entries, header included, in file order."""
    by_key: dict[str, Entry]
    header: Entry | None
    template: bool
    wrap: int | None
    newline: str


# --- reading ---------------------------------------------------------------------------------


def _unescape(body: str, pos: int) -> str:
    """Decode the C escapes of a PO string whose body starts at offset ``pos``."""
    if "\\" not in body:
        return body

    def decode(match: re.Match[str]) -> str:
        octal, hexa, simple = match.groups()
        if octal is not None:
            return chr(int(octal, 8))
        if hexa is not None:
            code = int(hexa, 16)
            if code > 0x10FFFF:
                raise ParseFailure(pos + match.start(), "escape out of range")
            return chr(code)
        if simple in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[simple]
        raise ParseFailure(pos + match.start(), f"invalid escape sequence \\{simple}")

    return _ESCAPE.sub(decode, body)


class _Scanner:
    """Reads PO text line by line into entries, failing at the first line gettext would reject."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: list[Entry] = []
        self.pending = Entry()
        self.current: Entry | None = None
        self.last: Field | None = None
        self.pending_obsolete = False
        """Whether the pending comments include ``#~`` lines (an obsolete entry)."""

    def run(self) -> list[Entry]:
        text = self.text
        size = len(text)
        for match in _PO_LINE.finditer(text):
            start, end = match.span()
            if start == size:
                break
            kind = match.lastgroup  # the last group that closed: it names the line's kind
            if kind == "value":
                self.keyword(match, end)
            elif kind == "more":
                self.continuation(match, end)
            elif kind == "comment":
                self.comment(Line(start, end, text[start:end].rstrip("\n").removesuffix("\r")))
            elif kind == "blank":
                if self.current is not None or self.pending.comments:
                    self.close()
                    self.flush_obsolete()
            else:
                self.diagnose(start, end)
        self.close()
        self.flush_obsolete()
        return self.entries

    def diagnose(self, start: int, end: int) -> None:
        """Raise the precise error for a line that is neither a comment, a field nor blank."""
        line = self.text[start:end]
        pos = start + len(line) - len(line.lstrip(" \t"))
        if self.text[pos : pos + 1] != '"':
            match = _KEYWORD.match(self.text, pos, end)
            if match is None:
                raise ParseFailure(pos, "keyword expected (msgctxt, msgid, msgid_plural, msgstr)")
            self.entry_for(match.group(1), pos)
            pos = match.end()
            while pos < end and self.text[pos] in " \t":
                pos += 1
        self.string(pos)
        raise ParseFailure(pos, "syntax error")  # pragma: no cover - string() raised already

    def comment(self, line: Line) -> None:
        if self.current is not None:
            if not self.current.msgstrs:
                raise ParseFailure(line.start, "missing 'msgstr' section")
            self.close()
        obsolete = line.text.startswith("#~")
        if not obsolete and self.pending_obsolete and self.pending.comments[-1].text.startswith("#~"):
            self.flush_obsolete()  # an obsolete entry directly followed by the next entry's comments
        self.pending_obsolete = self.pending_obsolete or obsolete
        self.pending.comments.append(line)

    def flush_obsolete(self) -> None:
        """Pending comments with ``#~`` lines are an obsolete entry: kept, never edited."""
        if self.pending_obsolete:
            self.entries.append(Entry(comments=self.pending.comments, end=self.pending.comments[-1].end, obsolete=True))
            self.pending = Entry()
            self.pending_obsolete = False

    def close(self) -> None:
        if self.current is not None:
            if not self.current.msgstrs:
                raise ParseFailure(self.current.fields[-1].start, "missing 'msgstr' section")
            self.current.key = self.current.make_key()
            self.entries.append(self.current)
            self.current = None
            self.last = None

    def continuation(self, match: re.Match[str], end: int) -> None:
        if self.last is None or self.current is None:
            raise ParseFailure(match.start("more") - 1, "a string must follow a keyword")
        self.last.value += _unescape(match.group("more"), match.start("more"))
        self.last.end = match.end("more") + 1
        self.last.lines += 1
        self.current.end = end

    def keyword(self, match: re.Match[str], end: int) -> None:
        keyword = match.group("keyword")
        pos = match.start("keyword")
        entry = self.entry_for(keyword, pos)
        index = match.group("index")
        text = self.text
        newline = "\r\n" if text.startswith("\r\n", end - 2) else "\n" if text.startswith("\n", end - 1) else ""
        value = _unescape(match.group("value"), match.start("value"))
        f = Field(keyword, int(index) if index is not None else None, value, pos, match.end("value") + 1, newline)
        entry.add(f)
        entry.end = end
        self.last = f

    def entry_for(self, keyword: str, pos: int) -> Entry:
        """The entry a keyword belongs to, checking the order gettext requires."""
        current = self.current
        if keyword in ("msgctxt", "msgid"):
            if current is not None and current.msgstrs:
                self.close()
                current = None
            if current is not None and (current.get("msgid") or keyword == "msgctxt"):
                raise ParseFailure(pos, "missing 'msgstr' section" if current.get("msgid") else "duplicate 'msgctxt'")
            if current is None:
                self.flush_obsolete()
                current = self.current = self.pending
                self.pending = Entry()
            return current
        if current is None or current.get("msgid") is None:
            raise ParseFailure(pos, f"'{keyword.split('[')[0]}' without 'msgid'")
        plural = current.get("msgid_plural") is not None
        if keyword == "msgid_plural":
            if plural or current.msgstrs:
                raise ParseFailure(pos, "unexpected 'msgid_plural'")
        elif keyword == "msgstr":
            if plural or current.msgstrs:
                raise ParseFailure(pos, "plural entries need 'msgstr[n]'" if plural else "duplicate 'msgstr'")
        else:
            if not plural:
                raise ParseFailure(pos, "'msgstr[n]' without 'msgid_plural'")
            if keyword in current.named:
                raise ParseFailure(pos, f"duplicate '{keyword}'")
        return current

    def string(self, pos: int) -> tuple[str, int]:
        """Decode the string literal at ``pos``; nothing but spaces may follow it on its line."""
        match = _STRING.match(self.text, pos)
        if self.text[pos : pos + 1] != '"' or match is None:
            raise ParseFailure(pos, "string expected" if self.text[pos : pos + 1] != '"' else "unterminated string")
        end = match.end()
        rest = end
        while rest < len(self.text) and self.text[rest] in " \t\r":
            rest += 1
        if rest < len(self.text) and self.text[rest] != "\n":
            raise ParseFailure(rest, "unexpected text after the string")
        return _unescape(match.group(1), pos + 1), end


def header_fields(header: Entry | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    if header is not None and header.msgstrs:
        for line in header.msgstrs[0].value.split("\n"):
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip()] = value.strip()
    return fields


def _wraps(entries: list[Entry]) -> int | None:
    """``WRAP_WIDTH`` if the file's long strings are wrapped, None if they are not."""
    wrapped = long = 0
    for entry in entries:
        for f in entry.fields:
            if f.lines > 1 and "\n" not in f.value[:-1]:
                wrapped += 1
            elif f.lines == 1 and f.end - f.start > WRAP_WIDTH and " " in f.value:
                long += 1
    return None if long > wrapped else WRAP_WIDTH


def _encoding(data: bytes) -> str:
    """The header's charset if Python knows it as an ASCII-compatible text encoding (as gettext
    requires), else UTF-8 (also for a template's ``charset=CHARSET``)."""
    match = _CHARSET.search(data, 0, 65_536)
    if match is None:
        return "utf-8"
    try:
        info = codecs.lookup(match.group(1).decode("ascii"))
        compatible = _PROBE.encode(info.name) == _PROBE.encode("ascii")
    except (LookupError, UnicodeError, ValueError):
        return "utf-8"
    return info.name if compatible and getattr(info, "_is_text_encoding", True) else "utf-8"


def _decode(body: bytes, encoding: str, path: str) -> str:
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as e:
        good = _decoded_prefix(body[: e.start], encoding)
        line, column = line_column(good, len(good))
        raise FormatError(path, line, column, f"invalid {encoding} byte 0x{body[e.start]:02x}") from None
    except (UnicodeError, ValueError) as e:  # a codec that fails without saying where (idna)
        raise FormatError(path, 1, 1, f"cannot decode as {encoding}: {e}") from None


def _decoded_prefix(prefix: bytes, encoding: str) -> str:
    """The text before a decoding error, for its line and column (bytes as Latin-1 if need be)."""
    try:
        return prefix.decode(encoding, "replace")
    except (UnicodeError, ValueError):
        return prefix.decode("latin-1")


# --- values of entries -----------------------------------------------------------------------


def fallback_value(entry: Entry, index: int | None) -> str:
    """A template's value of an untranslated form: the msgid, or the msgid_plural."""
    if index is None or index == 0:
        return entry.msgid
    return entry.msgid_plural or entry.msgid


def entry_forms(entry: Entry, template: bool) -> dict[int | None, str]:
    """The entry's values by msgstr index (None for a singular entry), as the entries show them."""
    if template:
        return {
            f.index: f.value if f.value and not entry.fuzzy else fallback_value(entry, f.index) for f in entry.msgstrs
        }
    if entry.fuzzy:
        return {}
    return {f.index: f.value for f in entry.msgstrs if f.value}


def _leaf_key(key: str, index: int | None) -> str:
    return key if index is None else f"{key}/#{index}"


def po_entries(layout: PoLayout) -> dict[str, Leaf]:
    out: dict[str, Leaf] = {}
    for entry in layout.entries:
        if entry.is_header:
            continue
        for index, value in entry_forms(entry, layout.template).items():
            out[_leaf_key(entry.key, index)] = value
    return out


def split_key(key: str) -> tuple[str, int | None]:
    """``(entry key, plural index or None)`` of a flat key."""
    entry_key, sep, form = key.partition("/")
    if sep and form.startswith("#") and form[1:].isdigit():
        return entry_key, int(form[1:])
    return key, None


def read_po(data: bytes, path: str) -> PoLayout:
    """Scan a PO/POT file; a syntax error or a duplicate message is a ``FormatError`` naming ``path``."""
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if bom else data
    encoding = _encoding(body)
    text = _decode(body, encoding, path)
    try:
        entries = _Scanner(text).run()
    except ParseFailure as e:
        line, column = line_column(text, e.pos)
        raise FormatError(path, line, column, e.detail) from None
    active = [e for e in entries if not e.obsolete]
    by_key: dict[str, Entry] = {}
    for entry in active:
        if entry.key in by_key:
            line, column = line_column(text, entry.get("msgid").start)  # type: ignore[union-attr]
            raise FormatError(path, line, column, "duplicate message definition")
        by_key[entry.key] = entry
    header = by_key.pop(keypaths.escape(""), None)
    language = header_fields(header).get("Language", "")
    return PoLayout(
        text=text,
        bom=bom,
        encoding=encoding,
        entries=active,
        by_key=by_key,
        header=header,
        template=path.endswith(".pot") or not language,
        wrap=_wraps(active),
        newline=newline_of(text),
    )
