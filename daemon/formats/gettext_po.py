"""GNU gettext PO and POT files.

**Hand-written scanner and writer; polib is not used.** Measured on the corpus, polib
(``pofile(..., wrapwidth=0)`` then ``str()``) writes none of the 15 corpus files back byte for
byte: it joins the wrapped continuation lines of msgid/msgstr and of ``#:`` references, puts the
header's first field on the ``msgstr`` line, rewrites ``##`` comments as ``#``, reorders header
fields and loses CRLF and mixed line endings. It also reports no line or column for a broken
file and no positions to edit. The scanner here reads the file line by line, keeps the offset
of every field, and ``render`` edits only the ``msgstr`` fields that change (plus flags and new
or removed entries), so everything else (comments, references, wrapping, obsolete ``#~``
entries, ``#|`` previous strings, the header, each line's own line ending) stays byte for byte.

Keys and values:

- The key of an entry is its msgid; with a ``msgctxt`` it is ``<msgctxt>\\x04<msgid>``, the
  very key GNU gettext looks up in a ``.mo`` file (EOT cannot occur in a msgctxt, so the key is
  reversible). Either way it is a single key segment, escaped with ``keypaths.escape`` (a ``/``
  in a msgid becomes ``~1``). The header (msgid ``""``) is not an entry.
- Plural entries (``msgid_plural``) have one leaf per form: ``<key>/#0``, ``<key>/#1``, ... by
  the ``msgstr[n]`` index, which the file's ``Plural-Forms`` header maps to numbers; mapping
  indices to CLDR categories per locale is a later step's job.
- A template (a ``.pot``, or a PO whose header names no ``Language``, like Django's source
  ``en`` catalog) gives every entry a value: its msgstr if not empty, else the msgid (form 0)
  or msgid_plural (forms 1 and up). A translation gives only what is translated: an empty
  msgstr, and every msgstr of a ``fuzzy`` entry, is absent from the entries, so the daemon
  sends it for translation.

Writing into an existing file:

- A changed or new translation rewrites that msgstr field (wrapped at 79 columns after spaces,
  like msgmerge, when the file wraps; split only after ``\\n`` when it does not). Writing into a
  fuzzy entry removes its ``fuzzy`` flag and its ``#|`` previous-msgid lines.
- A translated key missing from the values becomes untranslated: its entry is marked fuzzy
  (the old text stays visible to translators, as msgmerge does) when the source still has the
  key, and is removed when the source no longer has it. A plural form missing while other
  forms are given is emptied. In a template a missing key's entry is removed.
- New keys become new entries at their source position (after the nearest preceding source
  entry the file has, else before the next one, else after the last entry), with the source
  entry's extracted comments, references and flags (minus ``fuzzy``).
- The header is left alone: no ``PO-Revision-Date`` churn, so an unchanged catalog stays
  unchanged.

Values are strings: ``None`` counts as absent, other leaves are written as their text, and an
empty string is an untranslated msgstr (gettext has no way to say "translated as empty").
Existing entries never move, even where the target's order differs from the source's.

A new target (no target file yet) is the source text with each msgstr replaced by the value or
emptied, the header's ``fuzzy`` flag removed, ``Language`` set to the locale, ``charset=CHARSET``
made ``UTF-8`` and, for the languages in ``PLURAL_FORMS`` (GNU gettext's table), ``Plural-Forms``
set so that plural entries get the locale's number of ``msgstr[n]``.

Files are decoded with the header's charset (UTF-8 when absent or ``CHARSET``); a UTF-8 BOM
is kept.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats.base import Format, Leaf, ParsedFile

CONTEXT_SEPARATOR = "\x04"
WRAP_WIDTH = 79
"""msgmerge's default width; a wrapping file gets new strings wrapped the same way."""

PLURAL_FORMS: dict[str, str] = {
    # GNU gettext's plural-table.c, for the header of a new target
    **dict.fromkeys(("ja", "ko", "vi", "zh", "th", "id", "ms", "km", "lo", "my"), "nplurals=1; plural=0;"),
    **dict.fromkeys(
        (
            "en",
            "de",
            "nl",
            "sv",
            "da",
            "no",
            "nb",
            "nn",
            "fo",
            "es",
            "pt",
            "it",
            "bg",
            "el",
            "fi",
            "et",
            "he",
            "eo",
            "hu",
            "tr",
            "ca",
            "eu",
            "gl",
            "af",
            "sq",
            "hy",
            "az",
            "ka",
            "kk",
            "ky",
        ),
        "nplurals=2; plural=(n != 1);",
    ),
    **dict.fromkeys(("fr", "pt_BR", "pt-BR", "oc", "fil", "tl"), "nplurals=2; plural=(n > 1);"),
    "lv": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n != 0 ? 1 : 2);",
    "ga": "nplurals=3; plural=n==1 ? 0 : n==2 ? 1 : 2;",
    "ro": "nplurals=3; plural=n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2;",
    "lt": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) ? 1 : 2);",
    **dict.fromkeys(
        ("ru", "uk", "be", "sr", "hr", "bs"),
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    ),
    **dict.fromkeys(("cs", "sk"), "nplurals=3; plural=(n==1) ? 0 : (n>=2 && n<=4) ? 1 : 2;"),
    "pl": "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "sl": "nplurals=4; plural=(n%100==1 ? 0 : n%100==2 ? 1 : n%100==3 || n%100==4 ? 2 : 3);",
    "ar": "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;",
}

_BOM = b"\xef\xbb\xbf"
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
_WRITE_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_CHARSET = re.compile(rb"Content-Type:[^\"\\\n]*charset=([A-Za-z0-9_.:-]+)")
_NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)")
_PROBE = 'msgid "\\n"\n#:,[]'
"""The characters the scanner relies on; a charset must encode them as ASCII does."""
_BLANK_LINE = re.compile(r"[ \t]*\r?\n")


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


class _Fail(Exception):
    def __init__(self, pos: int, detail: str) -> None:
        super().__init__(detail)
        self.pos = pos
        self.detail = detail


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
                raise _Fail(pos + match.start(), "escape out of range")
            return chr(code)
        if simple in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[simple]
        raise _Fail(pos + match.start(), f"invalid escape sequence \\{simple}")

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
                raise _Fail(pos, "keyword expected (msgctxt, msgid, msgid_plural, msgstr)")
            self.entry_for(match.group(1), pos)
            pos = match.end()
            while pos < end and self.text[pos] in " \t":
                pos += 1
        self.string(pos)
        raise _Fail(pos, "syntax error")  # pragma: no cover - string() raised already

    def comment(self, line: Line) -> None:
        if self.current is not None:
            if not self.current.msgstrs:
                raise _Fail(line.start, "missing 'msgstr' section")
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
                raise _Fail(self.current.fields[-1].start, "missing 'msgstr' section")
            self.current.key = self.current.make_key()
            self.entries.append(self.current)
            self.current = None
            self.last = None

    def continuation(self, match: re.Match[str], end: int) -> None:
        if self.last is None or self.current is None:
            raise _Fail(match.start("more") - 1, "a string must follow a keyword")
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
                raise _Fail(pos, "missing 'msgstr' section" if current.get("msgid") else "duplicate 'msgctxt'")
            if current is None:
                self.flush_obsolete()
                current = self.current = self.pending
                self.pending = Entry()
            return current
        if current is None or current.get("msgid") is None:
            raise _Fail(pos, f"'{keyword.split('[')[0]}' without 'msgid'")
        plural = current.get("msgid_plural") is not None
        if keyword == "msgid_plural":
            if plural or current.msgstrs:
                raise _Fail(pos, "unexpected 'msgid_plural'")
        elif keyword == "msgstr":
            if plural or current.msgstrs:
                raise _Fail(pos, "plural entries need 'msgstr[n]'" if plural else "duplicate 'msgstr'")
        else:
            if not plural:
                raise _Fail(pos, "'msgstr[n]' without 'msgid_plural'")
            if keyword in current.named:
                raise _Fail(pos, f"duplicate '{keyword}'")
        return current

    def string(self, pos: int) -> tuple[str, int]:
        """Decode the string literal at ``pos``; nothing but spaces may follow it on its line."""
        match = _STRING.match(self.text, pos)
        if self.text[pos : pos + 1] != '"' or match is None:
            raise _Fail(pos, "string expected" if self.text[pos : pos + 1] != '"' else "unterminated string")
        end = match.end()
        rest = end
        while rest < len(self.text) and self.text[rest] in " \t\r":
            rest += 1
        if rest < len(self.text) and self.text[rest] != "\n":
            raise _Fail(rest, "unexpected text after the string")
        return _unescape(match.group(1), pos + 1), end


def _header_fields(header: Entry | None) -> dict[str, str]:
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
        line, column = _line_column(good, len(good))
        raise FormatError(path, line, column, f"invalid {encoding} byte 0x{body[e.start]:02x}") from None
    except (UnicodeError, ValueError) as e:  # a codec that fails without saying where (idna)
        raise FormatError(path, 1, 1, f"cannot decode as {encoding}: {e}") from None


def _decoded_prefix(prefix: bytes, encoding: str) -> str:
    """The text before a decoding error, for its line and column (bytes as Latin-1 if need be)."""
    try:
        return prefix.decode(encoding, "replace")
    except (UnicodeError, ValueError):
        return prefix.decode("latin-1")


def _line_column(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


# --- values of entries -----------------------------------------------------------------------


def _fallback(entry: Entry, index: int | None) -> str:
    """A template's value of an untranslated form: the msgid, or the msgid_plural."""
    if index is None or index == 0:
        return entry.msgid
    return entry.msgid_plural or entry.msgid


def _forms(entry: Entry, template: bool) -> dict[int | None, str]:
    """The entry's values by msgstr index (None for a singular entry), as the entries show them."""
    if template:
        return {f.index: f.value if f.value and not entry.fuzzy else _fallback(entry, f.index) for f in entry.msgstrs}
    if entry.fuzzy:
        return {}
    return {f.index: f.value for f in entry.msgstrs if f.value}


def _leaf_key(key: str, index: int | None) -> str:
    return key if index is None else f"{key}/#{index}"


def _entries(layout: PoLayout) -> dict[str, Leaf]:
    out: dict[str, Leaf] = {}
    for entry in layout.entries:
        if entry.is_header:
            continue
        for index, value in _forms(entry, layout.template).items():
            out[_leaf_key(entry.key, index)] = value
    return out


def _split_key(key: str) -> tuple[str, int | None]:
    """``(entry key, plural index or None)`` of a flat key."""
    entry_key, sep, form = key.partition("/")
    if sep and form.startswith("#") and form[1:].isdigit():
        return entry_key, int(form[1:])
    return key, None


# --- writing ---------------------------------------------------------------------------------


def escape(value: str) -> str:
    return _NEEDS_ESCAPE.sub(lambda m: _WRITE_ESCAPES.get(m.group(), f"\\{ord(m.group()):03o}"), value)


def _wrap(piece: str, width: int | None) -> list[str]:
    """Split an escaped piece into chunks of at most ``width - 2`` columns, after spaces."""
    if width is None or len(piece) + 2 <= width:
        return [piece]
    chunks: list[str] = []
    while len(piece) + 2 > width:
        cut = piece.rfind(" ", 0, width - 2)
        if cut <= 0:
            cut = piece.find(" ", width - 2)
            if cut < 0:
                break
        chunks.append(piece[: cut + 1])
        piece = piece[cut + 1 :]
    if piece:
        chunks.append(piece)
    return chunks


def field_lines(keyword: str, value: str, wrap: int | None) -> list[str]:
    """The lines of ``keyword "value"`` the way msgmerge writes them.

    One line when the value has no inner line break and fits; else ``keyword ""`` followed by
    one string per line of the value, each wrapped after spaces to ``wrap`` columns.
    """
    pieces = [escape(p) for p in re.findall(r"[^\n]*\n|[^\n]+", value)] or [""]
    single = f'{keyword} "{pieces[0]}"'
    if len(pieces) == 1 and (wrap is None or len(single) <= wrap):
        return [single]
    lines = [f'{keyword} ""']
    for piece in pieces:
        lines += [f'"{chunk}"' for chunk in _wrap(piece, wrap)]
    return lines


def _text_of(value: Leaf) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    rank: int = 0


class _Writer:
    """Edits the layout file's text so that it holds ``values``."""

    def __init__(
        self, layout: PoLayout, values: Mapping[str, Leaf], source: PoLayout | None, new_file: bool, locale: str | None
    ) -> None:
        self.lay = layout
        self.text = layout.text
        self.source = source
        self.new_file = new_file
        self.locale = locale
        self.template = layout.template and not new_file
        self.edits: list[_Edit] = []
        self.wanted: dict[str, dict[int | None, str]] = {}
        for key, value in values.items():
            if value is None:
                continue
            entry_key, index = _split_key(key)
            self.wanted.setdefault(entry_key, {})[index] = _text_of(value)
        self.in_source = source.by_key.keys() if source is not None else layout.by_key.keys()
        self.deleted: set[int] = set()
        header = _header_fields(layout.header)
        self.nplurals = _nplurals(header.get("Plural-Forms", ""))

    def run(self) -> str:
        if self.new_file:
            self.new_header()
        for entry in self.lay.entries:
            if not entry.is_header:
                self.update(entry)
        self.insert_new()
        return self.apply()

    # existing entries

    def update(self, entry: Entry) -> None:
        wanted = self.wanted.get(entry.key)
        if wanted is not None and (None not in wanted) != (entry.msgid_plural is not None):
            self.delete(entry)  # singular became plural or back: written anew from the source
            return
        current = _forms(entry, self.template)
        if wanted is None:
            if current or self.new_file:
                self.untranslate(entry)
        elif wanted != current or self.new_file:
            self.write_forms(entry, wanted)

    def untranslate(self, entry: Entry) -> None:
        """Make a translated entry absent: fuzzy if the source still has it, else gone."""
        if self.new_file:
            self.write_forms(entry, {})
        elif self.template or entry.key not in self.in_source:
            self.delete(entry)
        elif not entry.fuzzy:
            self.set_fuzzy(entry)

    def write_forms(self, entry: Entry, wanted: Mapping[int | None, str]) -> None:
        """Write every msgstr of ``entry`` (forms missing from ``wanted`` become empty)."""
        msgstrs = entry.msgstrs
        if entry.msgid_plural is not None:
            least = self.nplurals if self.new_file and self.nplurals is not None else len(msgstrs)
            count = max([least, *(i + 1 for i in wanted if i is not None)])
            if count != len(msgstrs) or [f.index for f in msgstrs] != list(range(count)):
                self.replace_plural_block(entry, wanted, count)
            else:
                for f in msgstrs:
                    self.set_field(entry, f, wanted.get(f.index, ""))
        else:
            self.set_field(entry, msgstrs[0], wanted.get(None, ""))
        if entry.fuzzy and (wanted or self.new_file):
            self.clear_fuzzy(entry)

    def set_field(self, entry: Entry, f: Field, value: str) -> None:
        if self.template and not f.value and value == _fallback(entry, f.index):
            value = ""  # a template's empty msgstr already reads as its msgid
        if value != f.value:
            self.edits.append(_Edit(f.start, f.end, f.newline.join(field_lines(f.keyword, value, self.lay.wrap))))

    def replace_plural_block(self, entry: Entry, wanted: Mapping[int | None, str], count: int) -> None:
        msgstrs = entry.msgstrs
        newline = msgstrs[0].newline
        lines: list[str] = []
        for index in range(count):
            lines += field_lines(f"msgstr[{index}]", wanted.get(index, ""), self.lay.wrap)
        self.edits.append(_Edit(msgstrs[0].start, msgstrs[-1].end, newline.join(lines)))

    def flag_lines(self, entry: Entry) -> Iterator[Line]:
        return (line for line in entry.comments if line.text.startswith("#,"))

    def clear_fuzzy(self, entry: Entry) -> None:
        """Drop the ``fuzzy`` flag and the ``#|`` previous strings that explained it."""
        for line in entry.comments:
            if line.text.startswith("#|"):
                self.edits.append(_Edit(line.start, line.end, ""))
        for line in self.flag_lines(entry):
            flags = [f.strip() for f in line.text[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
            if len(flags) == len([f for f in line.text[2:].split(",") if f.strip()]):
                continue
            if flags:
                self.edits.append(_Edit(line.start, line.start + len(line.text), "#, " + ", ".join(flags)))
            else:
                self.edits.append(_Edit(line.start, line.end, ""))

    def set_fuzzy(self, entry: Entry) -> None:
        line = next(self.flag_lines(entry), None)
        if line is not None:
            self.edits.append(_Edit(line.start, line.start + len(line.text), "#, fuzzy," + line.text[2:]))
            return
        previous = next((c for c in entry.comments if c.text.startswith("#|")), None)
        at = previous.start if previous is not None else self.line_start(entry.fields[0].start)
        self.edits.append(_Edit(at, at, "#, fuzzy" + entry.fields[0].newline))

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def delete(self, entry: Entry) -> None:
        """Remove an entry with its comments and one blank line next to it."""
        self.deleted.add(id(entry))
        start, end = entry.start, entry.end
        blank = _BLANK_LINE.match(self.text, end)
        if blank is not None:
            end = blank.end()
        elif start > 0:
            previous = self.line_start(start - 1)
            if not self.text[previous:start].strip():
                start = previous
        self.edits.append(_Edit(start, end, ""))

    # the header of a new target

    def new_header(self) -> None:
        header = self.lay.header
        fields = _header_fields(header)
        updates: dict[str, str] = {}
        if self.locale:
            updates["Language"] = self.locale
            forms = PLURAL_FORMS.get(self.locale) or PLURAL_FORMS.get(re.split(r"[_@.-]", self.locale)[0])
            if forms is not None:
                updates["Plural-Forms"] = forms
                self.nplurals = _nplurals(forms)
        if "charset=CHARSET" in fields.get("Content-Type", ""):
            updates["Content-Type"] = fields["Content-Type"].replace("charset=CHARSET", "charset=UTF-8")
        if header is None:
            body = {"Language": self.locale or "", "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding": "8bit", **updates}  # fmt: skip
            lines = ['msgid ""', *field_lines("msgstr", _header_text(body), self.lay.wrap), ""]
            self.edits.append(_Edit(0, 0, self.lay.newline.join(lines) + self.lay.newline, rank=-1))
            return
        if header.fuzzy:
            self.clear_fuzzy(header)
        if updates and header.msgstrs:
            f = header.msgstrs[0]
            merged = dict(fields)
            for name, value in updates.items():
                merged[name] = value
            self.edits.append(
                _Edit(f.start, f.end, f.newline.join(field_lines("msgstr", _header_text(merged), self.lay.wrap)))
            )

    # new entries

    def insert_new(self) -> None:
        """New entries go after the nearest preceding entry in source order that the file has."""
        order = list(self.wanted)
        if self.source is not None:
            source_order = [e.key for e in self.source.entries if not e.is_header and e.key in self.wanted]
            order = list(dict.fromkeys([*source_order, *order]))
        alive = {e.key: e for e in self.lay.entries if id(e) not in self.deleted and not e.is_header}
        previous: Entry | None = None
        head: list[tuple[int, str]] = []
        for rank, key in enumerate(order):
            if key in alive:
                previous = alive[key]
            elif key not in self.lay.by_key or id(self.lay.by_key[key]) in self.deleted:
                if previous is not None:
                    self.insert(previous.end, self.lay.newline + self.entry_text(key), rank)
                else:
                    head.append((rank, key))
        following = next((alive[k] for k in order if k in alive), None)
        for rank, key in head:
            if following is not None:
                self.insert(following.start, self.entry_text(key) + self.lay.newline, rank)
            else:
                last = list(alive.values())[-1] if alive else self.lay.header
                at = last.end if last is not None else len(self.text)
                self.insert(at, (self.lay.newline if at else "") + self.entry_text(key), rank)

    def insert(self, at: int, text: str, rank: int) -> None:
        if at == len(self.text) and self.text and not self.text.endswith("\n"):
            text = self.lay.newline + text
        self.edits.append(_Edit(at, at, text, rank))

    def entry_text(self, key: str) -> str:
        """A new entry for ``key``: the source's comments and msgid lines, then the msgstr lines."""
        wanted = self.wanted[key]
        newline = self.lay.newline
        source = self.source.by_key.get(key) if self.source is not None else None
        lines: list[str] = []
        plural = None not in wanted
        if source is not None and (source.msgid_plural is not None) == plural:
            for line in source.comments:
                if line.text.startswith("#|") or line.text.startswith("#~"):
                    continue
                if line.text.startswith("#,"):
                    flags = [f.strip() for f in line.text[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
                    if flags:
                        lines.append("#, " + ", ".join(flags))
                    continue
                lines.append(line.text)
            for f in source.fields:
                if not f.keyword.startswith("msgstr"):
                    lines += self.source_field_lines(f)
            msgid_plural = source.msgid_plural
        else:
            raw = keypaths.unescape(key)
            ctxt, sep, msgid = raw.partition(CONTEXT_SEPARATOR)
            if sep:
                lines += field_lines("msgctxt", ctxt, self.lay.wrap)
            else:
                msgid = raw
            lines += field_lines("msgid", msgid, self.lay.wrap)
            msgid_plural = msgid if plural else None
            if plural:
                lines += field_lines("msgid_plural", msgid, self.lay.wrap)
        if msgid_plural is None:
            lines += field_lines("msgstr", wanted.get(None, ""), self.lay.wrap)
        else:
            count = max([self.nplurals or 0, *(i + 1 for i in wanted if i is not None)])
            for index in range(count):
                lines += field_lines(f"msgstr[{index}]", wanted.get(index, ""), self.lay.wrap)
        return newline.join(lines) + newline

    def source_field_lines(self, f: Field) -> list[str]:
        """A field's lines exactly as the source file writes them."""
        assert self.source is not None
        start = self.source.text.rfind("\n", 0, f.start) + 1
        block = self.source.text[start : f.end]
        return [line.rstrip("\r") for line in block.split("\n")]

    def apply(self) -> str:
        edits = sorted(self.edits, key=lambda e: (e.start, e.end > e.start, e.rank))
        parts: list[str] = []
        pos = 0
        for e in edits:
            if e.start < pos:
                raise AssertionError("overlapping edits")  # pragma: no cover - a bug, not an input
            parts += [self.text[pos : e.start], e.text]
            pos = e.end
        parts.append(self.text[pos:])
        return "".join(parts)


def _header_text(fields: Mapping[str, str]) -> str:
    return "".join(f"{name}: {value}\n" for name, value in fields.items())


def _nplurals(plural_forms: str) -> int | None:
    match = _NPLURALS.search(plural_forms)
    return int(match.group(1)) if match else None


class GettextPoFormat(Format):
    """GNU gettext catalogs: ``.po`` translations and ``.pot`` templates."""

    name: ClassVar[str] = "po"
    extensions: ClassVar[tuple[str, ...]] = (".po", ".pot")

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        layout = self.load(data, path)
        return ParsedFile(entries=_entries(layout), raw=data, layout=layout)

    def load(self, data: bytes, path: str) -> PoLayout:
        bom = data.startswith(_BOM)
        body = data[len(_BOM) :] if bom else data
        encoding = _encoding(body)
        text = _decode(body, encoding, path)
        try:
            entries = _Scanner(text).run()
        except _Fail as e:
            line, column = _line_column(text, e.pos)
            raise FormatError(path, line, column, e.detail) from None
        active = [e for e in entries if not e.obsolete]
        by_key: dict[str, Entry] = {}
        for entry in active:
            if entry.key in by_key:
                line, column = _line_column(text, entry.get("msgid").start)  # type: ignore[union-attr]
                raise FormatError(path, line, column, "duplicate message definition")
            by_key[entry.key] = entry
        header = by_key.pop(keypaths.escape(""), None)
        language = _header_fields(header).get("Language", "")
        newline_at = text.find("\n")
        return PoLayout(
            text=text,
            bom=bom,
            encoding=encoding,
            entries=active,
            by_key=by_key,
            header=header,
            template=path.endswith(".pot") or not language,
            wrap=_wraps(active),
            newline="\r\n" if newline_at > 0 and text[newline_at - 1] == "\r" else "\n",
        )

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        if target is not None and _same(values, target.entries):
            return target.raw
        layout_file = target if target is not None else source
        layout = layout_file.layout
        if not isinstance(layout, PoLayout):
            layout = self.load(b"", "new.po")
        source_layout = source.layout if isinstance(source.layout, PoLayout) else None
        text = _Writer(layout, values, source_layout, target is None, locale).run()
        try:
            out = text.encode(layout.encoding)
        except UnicodeEncodeError as e:
            raise ValueError(f"{e.object[e.start : e.end]!r} cannot be written in {layout.encoding}") from None
        return _BOM + out if layout.bom else out


def _same(a: Mapping[str, Leaf], b: Mapping[str, Leaf]) -> bool:
    return len(a) == len(b) and all(k in b and type(v) is type(b[k]) and v == b[k] for k, v in a.items())
