"""The XML span scanner shared by the XML formats (Android ``strings.xml``, XLIFF).

The standard library's expat checks that a file is well-formed and reports where each
element starts (``CurrentByteIndex``); ``scan_xml`` turns that into an element tree with byte
offsets (``XmlNode``), without ever letting expat build values or re-serialise anything, so
that a format can replace exactly the bytes of a changed value (``daemon.formats._xml_splice``)
and read element content raw (``daemon.formats._xml_content``). The line helpers here find
the whitespace and line around an element, for removing it with its line and indenting new
content like its neighbours.

Safety: expat never expands entities here (a default handler is set, so internal entity
references are passed through, not expanded), and DTD entity declarations are refused unless
they are short plain text: no parameter entities, no external (``SYSTEM``/``PUBLIC``)
entities, no references or markup inside an entity. Files in UTF-16/32 are refused (byte
offsets are scanned as ASCII-compatible bytes); every other failure is a ``FormatError``
with line and column.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from daemon.errors import FormatError
from daemon.formats._text import UTF8_BOM, ParseFailure

EOL = re.compile(rb"[ \t]*(?:\r\n|\r|\n)")
"""Trailing blanks and the line break that end a line."""
# A start or end tag; quoted attribute values may contain '>'.
_TAG_BYTES = re.compile(rb"<[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>")
_MAX_ENTITY_VALUE = 1024


@dataclass(slots=True, eq=False)
class XmlNode:
    """One element: its name, attributes and byte offsets in the file.

    ``start`` is the ``<`` of the start tag, ``open_end`` the byte after its ``>``; ``close_start``
    is the ``<`` of the end tag and ``end`` the byte after it. A self-closing element has
    ``close_start == end == open_end``.
    """

    name: str
    attrs: dict[str, str]
    start: int
    open_end: int
    self_closing: bool
    parent: XmlNode | None
    close_start: int = -1
    end: int = -1
    children: list[XmlNode] = field(default_factory=list)
    comments: list[tuple[int, int]] | None = None
    """Byte spans of the comments directly inside this element (None: there are none)."""

    @property
    def local(self) -> str:
        """The name without a namespace prefix (``x:source`` -> ``source``)."""
        return self.name.rpartition(":")[2]


@dataclass(slots=True, eq=False)
class XmlDoc:
    """A well-formed document: its bytes, encoding, element tree and declared entities."""

    path: str
    data: bytes
    codec: str
    root: XmlNode
    entities: frozenset[str]
    newline: bytes

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode(self.codec)

    def inner(self, node: XmlNode) -> str:
        """The raw (still escaped) content of ``node``."""
        return "" if node.self_closing else self.text(node.open_end, node.close_start)

    def fail(self, pos: int, detail: str) -> FormatError:
        line, column = line_column(self.data, pos)
        return FormatError(self.path, line, column, detail)

    def encode(self, text: str) -> bytes:
        return text.encode(self.codec, "xmlcharrefreplace")

    def encodable(self) -> Callable[[str], bool]:
        """Whether a character can be written raw in this file's encoding."""
        if self.codec == "utf-8":
            return lambda c: True
        return lambda c: _can_encode(c, self.codec)


def _can_encode(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def line_column(data: bytes, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte offset ``pos``; CR, LF and CRLF end lines."""
    head = data[: max(0, min(pos, len(data)))]
    line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    start = max(head.rfind(b"\n"), head.rfind(b"\r")) + 1
    segment = head[start:]
    if start == 0 and segment.startswith(UTF8_BOM):
        segment = segment[len(UTF8_BOM) :]
    return line, len(segment.decode("utf-8", "replace")) + 1


class _Scanner:
    """Expat handlers that build the ``XmlNode`` tree with byte offsets."""

    def __init__(self, data: bytes, parser: expat.XMLParserType, leaves: frozenset[str]) -> None:
        self.data = data
        self.parser = parser
        self.leaves = leaves
        self.hidden = 0  # depth inside a leaf element, whose descendants get no node
        self.stack: list[XmlNode] = []
        self.root: XmlNode | None = None
        self.entities: set[str] = set()
        self.encoding: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.hidden:
            self.hidden += 1
            return
        pos = self.parser.CurrentByteIndex
        match = _TAG_BYTES.match(self.data, pos)
        if match is None:  # expat accepted the tag, so this cannot happen; never guess
            raise ParseFailure(pos, "unreadable start tag")
        open_end = match.end()
        closing = self.data[open_end - 2 : open_end - 1] == b"/"
        parent = self.stack[-1] if self.stack else None
        node = XmlNode(name, attrs, pos, open_end, closing, parent)
        if closing:
            node.close_start = node.end = open_end
        if parent is None:
            self.root = node
        else:
            parent.children.append(node)
        self.stack.append(node)
        if name.rpartition(":")[2] in self.leaves:
            self.hidden = 1

    def end(self, name: str) -> None:
        if self.hidden > 1:
            self.hidden -= 1
            return
        self.hidden = 0
        node = self.stack.pop()
        if not node.self_closing:
            pos = self.parser.CurrentByteIndex
            node.close_start = pos
            node.end = self.data.index(b">", pos) + 1

    def comment(self, text: str) -> None:
        if self.stack and not self.hidden:
            pos = self.parser.CurrentByteIndex
            parent = self.stack[-1]
            if parent.comments is None:
                parent.comments = []
            parent.comments.append((pos, self.data.index(b"-->", pos + 4) + 3))

    def xml_decl(self, version: str, encoding: str | None, standalone: int) -> None:
        self.encoding = encoding

    def entity_decl(
        self,
        name: str,
        is_parameter: int,
        value: str | None,
        base: str | None,
        system_id: str | None,
        public_id: str | None,
        notation: str | None,
    ) -> None:
        """Allow only short plain-text general entities: no bombs, no external resources."""
        index = self.parser.CurrentByteIndex  # expat reports the end of the declaration
        pos = max(self.data.rfind(b"<!ENTITY", 0, index), 0)
        if is_parameter:
            raise ParseFailure(pos, f"parameter entity %{name}; is not allowed")
        if value is None:
            raise ParseFailure(pos, f"external entity &{name}; is not allowed")
        if len(value) > _MAX_ENTITY_VALUE or any(c in value for c in "&%<"):
            raise ParseFailure(pos, f"entity &{name}; must be plain text of at most {_MAX_ENTITY_VALUE} characters")
        self.entities.add(name)


def _python_codec(declared: str | None, pos: int) -> str:
    """The Python codec for a declared encoding, if byte offsets can be scanned as ASCII."""
    if declared is None:
        return "utf-8"
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise ParseFailure(pos, f"unsupported encoding {declared!r}") from None
    if name.startswith(("utf-16", "utf-32")) or not _ascii_compatible(name):
        raise ParseFailure(pos, f"unsupported encoding {declared!r}; save the file as UTF-8")
    return name


def _ascii_compatible(codec: str) -> bool:
    try:
        return bytes(range(128)).decode(codec) == "".join(map(chr, range(128)))
    except (UnicodeDecodeError, LookupError):
        return False


def scan_xml(data: bytes, path: str, leaves: frozenset[str] = frozenset()) -> XmlDoc:
    """Check ``data`` is well-formed XML and return its element tree with byte offsets.

    Elements whose local name is in ``leaves`` get a node, but what is inside them does not
    (it is read from the bytes): big files then build a few thousand nodes, not a hundred
    thousand, which matters for speed and garbage-collector work.

    Raises ``FormatError`` (line and column) for anything expat rejects, for DTD entity
    declarations other than short plain text, and for encodings that are not ASCII-compatible.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        raise FormatError(path, 1, 1, "UTF-16 and UTF-32 files are not supported; save the file as UTF-8")
    parser = expat.ParserCreate()
    scanner = _Scanner(data, parser, leaves)
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CommentHandler = scanner.comment
    parser.XmlDeclHandler = scanner.xml_decl
    parser.EntityDeclHandler = scanner.entity_decl
    # A default handler turns off the expansion of internal entities in content.
    parser.DefaultHandler = _ignore
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
        if scanner.root is None:  # expat reports "no element found" first; keep mypy honest
            raise ParseFailure(len(data), "no root element")
        codec = _python_codec(scanner.encoding, 0)
    except expat.ExpatError as e:
        index = parser.ErrorByteIndex
        line, column = line_column(data, index) if index >= 0 else (e.lineno, e.offset + 1)
        raise FormatError(path, line, column, expat.ErrorString(e.code)) from None
    except ParseFailure as e:
        line, column = line_column(data, e.pos)
        raise FormatError(path, line, column, e.detail) from None
    except (LookupError, ValueError) as e:  # pyexpat's codec lookup for an unusual declared encoding
        raise FormatError(path, 1, 1, f"unsupported encoding: {e}") from None
    return XmlDoc(path, data, codec, scanner.root, frozenset(scanner.entities), _newline_of(data))


def _ignore(data: str) -> None:
    """Expat default handler: text and declarations are read from the bytes instead."""


def _newline_of(data: bytes) -> bytes:
    first = data.find(b"\n")
    if first > 0 and data[first - 1 : first] == b"\r":
        return b"\r\n"
    if first < 0 and b"\r" in data:
        return b"\r"
    return b"\n"


def line_start(data: bytes, pos: int) -> int:
    """Offset of the first byte of the line holding ``pos``."""
    return max(data.rfind(b"\n", 0, pos), data.rfind(b"\r", 0, pos)) + 1


def indent_before(data: bytes, pos: int) -> bytes | None:
    """The whitespace from the line start up to ``pos``, or None if something else precedes it."""
    prefix = data[line_start(data, pos) : pos]
    return prefix if not prefix.strip(b" \t") else None


def own_lines(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """The span of whole lines covering ``start:end`` if nothing else shares those lines."""
    if indent_before(data, start) is None:
        return None
    eol = EOL.match(data, end)
    return (line_start(data, start), eol.end()) if eol else None


def reindent(block: bytes, old: bytes, new: bytes) -> bytes:
    """Re-base the continuation lines of ``block`` from indent ``old`` to ``new``."""
    if old == new:
        return block
    lines = re.split(rb"(\r\n|\r|\n)", block)
    for i in range(2, len(lines), 2):
        if lines[i].startswith(old):
            lines[i] = new + lines[i][len(old) :]
    return b"".join(lines)
