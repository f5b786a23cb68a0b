"""Android string resources (``res/values*/strings.xml``), rewritten byte for byte.

What parses the format: the standard library's expat (``xml.parsers.expat``). It checks that the
file is well-formed and tells where each element starts (``CurrentByteIndex``); we never let it
build values or re-serialize anything. Hand-written on top of it, and why:

- **Span splicing** (``scan_xml``, ``SplicePlan``). Serializing a tree loses what translators and
  reviewers see in diffs: attribute order and quoting, comments, blank lines, indentation,
  CDATA, the XML declaration, a missing final newline. So ``parse`` records each element's
  byte span and ``render`` edits only the spans of changed values, inserts new elements after
  their predecessor in source order and removes deleted ones with their line. An unchanged
  file is returned as is; a changed value touches only its own line(s).
- **A content tokenizer** (``content_tokens``), because the inner bytes of an element are read
  raw: inline markup (``<b>``, ``<xliff:g id="x">%s</xliff:g>``) stays in the value verbatim, as
  markup text, character references are decoded, CDATA is text.
- **Android string escapes** (``android_unescape``/``android_escape``), following aapt2's
  ``StringBuilder``: outside double quotes, whitespace runs collapse to one space and leading or
  trailing collapsed whitespace is dropped; ``"`` toggles quoting (and is removed); ``\\'``,
  ``\\"``, ``\\@``, ``\\?``, ``\\\\``, ``\\n``, ``\\t`` and ``\\uXXXX`` are decoded. The value is the
  string the app displays (markup aside). Writing escapes it back canonically (``\\'``, ``\\"``,
  ``\\n``, ``\\u0020`` for a space that would otherwise be collapsed or trimmed, ``\\@``/``\\?`` at the
  start); an unchanged value keeps its original bytes, so any house style survives.

Keys: ``<string name="n">`` is ``n``; ``<plurals name="n">`` gives one leaf per form, ``n/#one``,
``n/#other`` (the ``#`` marks a CLDR category, never an index); ``<string-array name="n">`` gives
``n/0``, ``n/1`` (the item's position, counting every item). Not entries, so never sent and
never written to new targets: ``translatable="false"`` resources, array items that are resource
references (``@string/x``) or plain numbers (list values), and every other resource type
(``<integer-array>``, ``<bool>``, ``<dimen>``...). They stay untouched in the file that holds
them; a new array copies its reference items from the source. Array keys are positions, so
values that skip an index of an array (``a/0``, ``a/2``) are written compacted and read back as
``a/0``, ``a/1``: callers send whole arrays.

Layout of new content: a new element copies the source element (its start tag with every
attribute, a plural's or array's line structure, re-indented) and takes the target's most common
indentation, right after the nearest resource that precedes it in the source; missing plural
forms go into an existing ``<plurals>`` in CLDR order (zero, one, two, few, many, other). A new
target file is the source file minus everything that is not a translation; a comment goes when
every element of its section (up to the next blank line or comment) does, and removals do not
leave doubled blank lines. Leaves are strings: ``None`` means absent, numbers are spelled out.

Markup on write: a changed value's tags are written as markup when they form well-formed,
balanced XML; otherwise (or when the element wrote its tags as escaped text, ``&lt;a>``, as
Mastodon does for links) they are escaped as text. An element whose content was one CDATA
section is written as CDATA again. Entity references to entities declared in the file's DTD
(Termux's ``&TERMUX_APP_NAME;``) stay references in the value and in the file.

Safety: expat never expands entities here (a default handler is set, so internal entity
references are passed through, not expanded), and DTD entity declarations are refused unless
they are short plain text: no parameter entities, no external (``SYSTEM``/``PUBLIC``) entities,
no references or markup inside an entity. That rules out "billion laughs" and external entity
tricks while keeping Termux's file readable. Files in UTF-16/32 are refused (byte offsets are
scanned as ASCII-compatible bytes); every other failure is a ``FormatError`` with line and column.

The XML machinery in the first half of this module is shared with ``daemon.formats.xliff``.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal, NamedTuple
from xml.parsers import expat

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats.base import Format, Leaf, ParsedFile

# ---------------------------------------------------------------------------------------------
# Shared XML span machinery (also used by daemon.formats.xliff)
# ---------------------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"[ \t]*(?:\r\n|\r|\n)")
# A start or end tag; quoted attribute values may contain '>'.
_TAG_BYTES = re.compile(rb"<[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>")
_MAX_ENTITY_VALUE = 1024
INVALID_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot carry, not even as character references."""


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
    if start == 0 and segment.startswith(_BOM):
        segment = segment[len(_BOM) :]
    return line, len(segment.decode("utf-8", "replace")) + 1


class _Fail(Exception):
    """Internal: a problem at a byte offset, turned into ``FormatError`` by ``scan_xml``."""

    def __init__(self, pos: int, detail: str) -> None:
        super().__init__(detail)
        self.pos = pos
        self.detail = detail


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
            raise _Fail(pos, "unreadable start tag")
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
            raise _Fail(pos, f"parameter entity %{name}; is not allowed")
        if value is None:
            raise _Fail(pos, f"external entity &{name}; is not allowed")
        if len(value) > _MAX_ENTITY_VALUE or any(c in value for c in "&%<"):
            raise _Fail(pos, f"entity &{name}; must be plain text of at most {_MAX_ENTITY_VALUE} characters")
        self.entities.add(name)


def _python_codec(declared: str | None, pos: int) -> str:
    """The Python codec for a declared encoding, if byte offsets can be scanned as ASCII."""
    if declared is None:
        return "utf-8"
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise _Fail(pos, f"unsupported encoding {declared!r}") from None
    if name.startswith(("utf-16", "utf-32")) or not _ascii_compatible(name):
        raise _Fail(pos, f"unsupported encoding {declared!r}; save the file as UTF-8")
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
            raise _Fail(len(data), "no root element")
        codec = _python_codec(scanner.encoding, 0)
    except expat.ExpatError as e:
        index = parser.ErrorByteIndex
        line, column = line_column(data, index) if index >= 0 else (e.lineno, e.offset + 1)
        raise FormatError(path, line, column, expat.ErrorString(e.code)) from None
    except _Fail as e:
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
    eol = _EOL.match(data, end)
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


_ATTR_TEMPLATE = r"(\s){}\s*=\s*(\"[^\"]*\"|'[^']*')"


def attr_escape(value: str) -> str:
    """Escape an attribute value for double quotes (whitespace as references, so it survives)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return value.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")


def retag(open_tag: str, changes: Mapping[str, str], after: str | None = None) -> str:
    """Set attributes in a raw start tag, keeping the others and their order and quoting.

    An attribute that is not there yet goes right after ``after`` when that one exists,
    else after the last attribute.
    """
    for name, value in changes.items():
        pattern = re.compile(_ATTR_TEMPLATE.format(re.escape(name)))
        match = pattern.search(open_tag)
        if match:
            quote = match.group(2)[0]
            escaped = attr_escape(value) if quote == '"' else attr_escape(value).replace("'", "&apos;")
            open_tag = f"{open_tag[: match.start(2)]}{quote}{escaped}{quote}{open_tag[match.end(2) :]}"
            continue
        anchor = re.compile(_ATTR_TEMPLATE.format(re.escape(after))).search(open_tag) if after else None
        if anchor is not None:
            at = anchor.end()
        else:
            close = len(open_tag) - (2 if open_tag.endswith("/>") else 1)
            at = len(open_tag[:close].rstrip())
        open_tag = f'{open_tag[:at]} {name}="{attr_escape(value)}"{open_tag[at:]}'
    return open_tag


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``data[start:end]`` by ``text`` (an insertion when ``start == end``)."""

    start: int
    end: int
    text: bytes


def splice(data: bytes, edits: Iterable[Edit], lo: int = 0, hi: int | None = None) -> bytes:
    """Apply non-overlapping edits inside ``data[lo:hi]``; insertions at one offset keep their order."""
    hi = len(data) if hi is None else hi
    out: list[bytes] = []
    pos = lo
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < pos:
            raise AssertionError(f"overlapping edits at byte {edit.start}")
        out.append(data[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(data[pos:hi])
    return b"".join(out)


class SplicePlan:
    """The edits that turn one parsed file into the rendered one.

    Element-level operations are recorded first and turned into byte edits by ``edits()``, so
    that operations touching the same start tag (an attribute change plus new content on a
    self-closing element) become one edit instead of two overlapping ones.
    """

    def __init__(self, doc: XmlDoc) -> None:
        self.doc = doc
        self.removed: set[int] = set()
        self._edits: list[Edit] = []
        self._line_removals: list[tuple[int, int]] = []
        self._content: dict[int, tuple[XmlNode, bytes]] = {}
        self._attrs: dict[int, tuple[XmlNode, dict[str, str], str | None]] = {}
        self._after: dict[int, tuple[XmlNode, bytes, list[bytes]]] = {}
        self._before: dict[int, tuple[XmlNode, bytes, list[bytes]]] = {}
        self._into: dict[int, tuple[XmlNode, bytes, list[bytes]]] = {}

    def remove(self, node: XmlNode) -> None:
        """Delete an element, with its line when it is alone on it."""
        self.removed.add(id(node))
        self.remove_span(node.start, node.end)

    def remove_span(self, start: int, end: int) -> None:
        lines = own_lines(self.doc.data, start, end)
        if lines:
            self._line_removals.append(lines)
        else:
            self._edits.append(Edit(start, end, b""))

    def replace(self, start: int, end: int, text: bytes) -> None:
        self._edits.append(Edit(start, end, text))

    def set_content(self, node: XmlNode, content: bytes) -> None:
        self._content[id(node)] = (node, content)

    def set_attrs(self, node: XmlNode, changes: Mapping[str, str], after: str | None = None) -> None:
        entry = self._attrs.setdefault(id(node), (node, {}, after))
        entry[1].update(changes)

    def place_after(self, node: XmlNode, indent: bytes, block: bytes) -> None:
        self._after.setdefault(id(node), (node, indent, []))[2].append(block)

    def place_before(self, node: XmlNode, indent: bytes, block: bytes) -> None:
        self._before.setdefault(id(node), (node, indent, []))[2].append(block)

    def place_into(self, container: XmlNode, indent: bytes, block: bytes) -> None:
        """Add a child to an element that has no child elements yet."""
        self._into.setdefault(id(container), (container, indent, []))[2].append(block)

    @property
    def empty(self) -> bool:
        operations = (
            self._edits,
            self._line_removals,
            self._content,
            self._attrs,
            self._after,
            self._before,
            self._into,
        )
        return not any(operations)

    def _removed_lines(self) -> list[Edit]:
        """Whole-line removals, merged across the blank lines between them.

        Removing every element between two blank lines would leave the blank lines doubled; the
        region then takes one of them along.
        """
        data = self.doc.data
        merged: list[list[int]] = []
        for start, end in sorted(self._line_removals):
            if merged and not data[merged[-1][1] : start].strip():
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        edits: list[Edit] = []
        for start, end in merged:
            blank_after = _EOL.match(data, end)
            previous = data[line_start(data, max(start - 1, 0)) : start]
            if blank_after is not None and start > 0 and not previous.strip():
                end = blank_after.end()
            edits.append(Edit(start, end, b""))
        return edits

    def open_tag(self, node: XmlNode) -> str:
        """The node's start tag with recorded attribute changes applied."""
        raw = self.doc.text(node.start, node.open_end)
        entry = self._attrs.get(id(node))
        return retag(raw, entry[1], entry[2]) if entry else raw

    def edits(self) -> list[Edit]:
        data, nl = self.doc.data, self.doc.newline
        edits = self._edits + self._removed_lines()
        rewritten: set[int] = set()
        for key, (node, content) in self._content.items():
            if node.self_closing:
                rewritten.add(key)
                opened = _unclose(self.open_tag(node))
                edits.append(Edit(node.start, node.end, self.doc.encode(opened) + content + _close(node)))
            else:
                edits.append(Edit(node.open_end, node.close_start, content))
        for key, (node, indent, blocks) in self._into.items():
            if node.self_closing:  # the new start tag (with its attribute changes) is part of this edit
                rewritten.add(key)
            edits.append(self._into_edit(node, indent, blocks))
        for key, (node, _, _) in self._attrs.items():
            if key not in rewritten:
                edits.append(Edit(node.start, node.open_end, self.doc.encode(self.open_tag(node))))
        for node, indent, blocks in self._after.values():
            eol = _EOL.match(data, node.end)
            if eol:
                edits.append(Edit(eol.end(), eol.end(), b"".join(indent + b + nl for b in blocks)))
            else:
                edits.append(Edit(node.end, node.end, b"".join(blocks)))
        for node, indent, blocks in self._before.values():
            at = line_start(data, node.start)
            if indent_before(data, node.start) is not None:
                edits.append(Edit(at, at, b"".join(indent + b + nl for b in blocks)))
            else:
                edits.append(Edit(node.start, node.start, b"".join(blocks)))
        return edits

    def _into_edit(self, node: XmlNode, indent: bytes, blocks: list[bytes]) -> Edit:
        data, nl = self.doc.data, self.doc.newline
        own = indent_before(data, node.start) or b""
        lines = b"".join(indent + b + nl for b in blocks)
        if node.self_closing:
            opened = self.doc.encode(_unclose(self.open_tag(node)))
            return Edit(node.start, node.end, opened + nl + lines + own + _close(node))
        if indent_before(data, node.close_start) is not None:
            at = line_start(data, node.close_start)
            return Edit(at, at, lines)
        return Edit(node.close_start, node.close_start, nl + lines + own)

    def render(self) -> bytes:
        return self.doc.data if self.empty else splice(self.doc.data, self.edits())


def _unclose(open_tag: str) -> str:
    """``<a b="c"/>`` -> ``<a b="c">``."""
    return re.sub(r"\s*/>$", ">", open_tag)


def _close(node: XmlNode) -> bytes:
    return f"</{node.name}>".encode("ascii", "xmlcharrefreplace")


# --- element content ---------------------------------------------------------------------------

_CONTENT = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>"
    r"|<!--.*?-->"
    r"|<\?.*?\?>"
    r"|(?P<tag><[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>)"
    r"|&(?P<ref>[^;&<]*);",
    re.S,
)
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_XML_NEWLINE = re.compile(r"\r\n?")

TokenKind = Literal["text", "cdata", "tag", "entity"]


class Token(NamedTuple):
    """A piece of element content: decoded text, CDATA text, a raw tag or a raw entity reference."""

    kind: TokenKind
    text: str


class StyleCounts:
    """How a file writes ``>``, ``"`` and ``'`` in text: raw or as references (majority wins)."""

    def __init__(self) -> None:
        self.raw: Counter[str] = Counter()
        self.escaped: Counter[str] = Counter()

    def style(self) -> EscapeStyle:
        def wins(char: str) -> bool:
            return self.escaped[char] > self.raw[char]

        return EscapeStyle(gt=wins(">"), quot=wins('"'), apos=wins("'"))


@dataclass(frozen=True, slots=True)
class EscapeStyle:
    """Which optional references text is written with (``&``, ``<`` are always escaped)."""

    gt: bool = False
    quot: bool = False
    apos: bool = False


def content_tokens(raw: str, counts: StyleCounts | None = None) -> list[Token]:
    """Split the raw content of a well-formed element into tokens (comments and PIs dropped)."""
    tokens: list[Token] = []
    pos = 0
    for match in _CONTENT.finditer(raw):
        if match.start() > pos:
            tokens.append(_text_token(raw[pos : match.start()], counts))
        pos = match.end()
        if match.group("cdata") is not None:
            tokens.append(Token("cdata", _XML_NEWLINE.sub("\n", match.group("cdata"))))
        elif match.group("tag") is not None:
            tokens.append(Token("tag", match.group("tag")))
        elif match.group("ref") is not None:
            tokens.append(_ref_token(match.group("ref"), counts))
    if pos < len(raw):
        tokens.append(_text_token(raw[pos:], counts))
    return tokens


def _text_token(raw: str, counts: StyleCounts | None) -> Token:
    if counts is not None:
        for char in ">\"'":
            counts.raw[char] += raw.count(char)
    return Token("text", _XML_NEWLINE.sub("\n", raw))


def _ref_token(name: str, counts: StyleCounts | None) -> Token:
    if name in _PREDEFINED:
        if counts is not None:
            counts.escaped[_PREDEFINED[name]] += 1
        return Token("text", _PREDEFINED[name])
    if name.startswith("#"):
        try:
            code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
            return Token("text", chr(code))
        except ValueError:  # expat validated character references; defensive only
            pass
    return Token("entity", f"&{name};")


_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"(?:\s+[^\s=<>/\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*(?P<empty>/?)>"
    r"|&(?P<entity>[A-Za-z_][\w.\-]*);"
)


def split_markup(
    value: str, *, tags: bool, entities: frozenset[str], allowed: Callable[[str], bool] | None = None
) -> list[tuple[bool, str]]:
    """Split a value into ``(is_markup, text)`` pieces for writing.

    Markup is a tag (when ``tags`` and ``allowed(local_name)``) or a reference to a declared
    entity. If the tags would not form well-formed XML (unbalanced, bad attributes), they
    are all written as text instead, so the output is always well-formed and reads back as
    the same value.
    """
    pieces = _split(value, tags=tags, entities=entities, allowed=allowed)
    if tags and any(markup and text.startswith("<") for markup, text in pieces) and not _well_formed(pieces):
        pieces = _split(value, tags=False, entities=entities, allowed=allowed)
    return pieces


def _split(
    value: str, *, tags: bool, entities: frozenset[str], allowed: Callable[[str], bool] | None
) -> list[tuple[bool, str]]:
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for match in _MARKUP.finditer(value):
        if match.group("entity") is not None:
            ok = match.group("entity") in entities
        else:
            name = match.group("name").rpartition(":")[2]
            ok = tags and not (match.group("close") and match.group("empty"))
            ok = ok and (allowed is None or allowed(name))
        if ok:
            if match.start() > pos:
                pieces.append((False, value[pos : match.start()]))
            pieces.append((True, match.group()))
            pos = match.end()
    if pos < len(value) or not pieces:
        pieces.append((False, value[pos:]))
    return pieces


def _well_formed(pieces: list[tuple[bool, str]]) -> bool:
    """Whether the markup pieces, with the text left out, parse as one XML fragment."""
    names = sorted({text[1:-1] for markup, text in pieces if markup and text.startswith("&")})
    doctype = "".join(f'<!ENTITY {n} "">' for n in names)
    fragment = "".join(text for markup, text in pieces if markup)
    parser = expat.ParserCreate()
    try:
        parser.Parse(f"<!DOCTYPE r [{doctype}]><r>{fragment}</r>", True)
    except expat.ExpatError:
        return False
    return True


def escape_text(text: str, style: EscapeStyle, newline: bytes = b"\n") -> str:
    """Escape character data; drops the characters XML 1.0 cannot carry at all."""
    text = INVALID_XML_CHAR.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = text.replace(">", "&gt;") if style.gt else text.replace("]]>", "]]&gt;")
    if style.quot:
        text = text.replace('"', "&quot;")
    if style.apos:
        text = text.replace("'", "&apos;")
    text = text.replace("\r", "&#13;")
    return text.replace("\n", newline.decode("ascii")) if newline != b"\n" else text


def cdata_only(tokens: list[Token]) -> bool:
    """Whether content is exactly one CDATA section (give or take surrounding whitespace)."""
    cdata = [t for t in tokens if t.kind == "cdata"]
    return len(cdata) == 1 and all(t.kind == "cdata" or (t.kind == "text" and not t.text.strip()) for t in tokens)


def cdata_section(text: str) -> str:
    """``text`` as CDATA; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def coerce_values(values: Mapping[str, Leaf]) -> dict[str, str]:
    """Entries of XML formats are strings: ``None`` means absent, other leaves are spelled out."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value if isinstance(value, str) else str(value)
    return out


# ---------------------------------------------------------------------------------------------
# Android string escapes
# ---------------------------------------------------------------------------------------------

_ANDROID_SPECIAL = re.compile(r"\\(?:u[0-9a-fA-F]{1,4}|.)?|\"|[ \t\n\r\x0b\x0c]+", re.S)
_ANDROID_DECODE = {"t": "\t", "n": "\n"}
_ANDROID_ENCODE = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n", "\t": "\\t"}


def android_unescape(tokens: list[Token]) -> str:
    """The string aapt2 builds from element content; tags and entity references stay verbatim."""
    out: list[str | None] = []  # None is a collapsed whitespace run
    quoted = False
    last_space = False
    for kind, text in _merge_text(tokens):
        if kind in ("tag", "entity"):
            out.append(text)
            # an entity expands to text, which ends a whitespace run; a tag does not (as in aapt2)
            last_space = last_space and kind == "tag"
            continue
        pos = 0
        for match in _ANDROID_SPECIAL.finditer(text):
            if match.start() > pos:
                out.append(text[pos : match.start()])
                last_space = False
            pos = match.end()
            token = match.group()
            if token[0] == "\\":
                last_space = False
                if len(token) > 2:
                    out.append(chr(int(token[2:], 16)))
                elif len(token) == 2:
                    out.append(_ANDROID_DECODE.get(token[1], token[1]))
            elif token == '"':
                quoted = not quoted
                last_space = False
            elif quoted:
                out.append(token)
                last_space = False
            elif not last_space:
                out.append(None)
                last_space = True
        if pos < len(text):
            out.append(text[pos:])
            last_space = False
    if out and out[0] is None:
        del out[0]
    if out and out[-1] is None:
        del out[-1]
    return _join_surrogates("".join(" " if piece is None else piece for piece in out))


def _merge_text(tokens: list[Token]) -> list[Token]:
    """Join adjacent text and CDATA: an escape may straddle them (``\\&quot;`` is ``\\"``)."""
    merged: list[Token] = []
    for token in tokens:
        if token.kind in ("text", "cdata") and merged and merged[-1].kind == "text":
            merged[-1] = Token("text", merged[-1].text + token.text)
        else:
            merged.append(Token("text", token.text) if token.kind == "cdata" else token)
    return merged


def _join_surrogates(text: str) -> str:
    """Pair ``\\uD83E\\uDDD8``-style surrogates into one character; a lone one becomes U+FFFD."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def android_escape(pieces: list[tuple[bool, str]], encodable: Callable[[str], bool]) -> list[tuple[bool, str]]:
    """Escape the text pieces so that ``android_unescape`` gives the value back exactly."""
    out: list[tuple[bool, str]] = []
    first = True  # nothing written yet: a space here would be trimmed, a '@' read as a reference
    after_space = False  # the last character written was a raw space, so another would collapse
    last = len(pieces) - 1
    for index, (markup, text) in enumerate(pieces):
        if markup:
            out.append((True, text))
            first = False
            after_space = after_space and text.startswith("<")
            continue
        buf: list[str] = []
        for pos, char in enumerate(text):
            at_end = index == last and pos == len(text) - 1
            if char == " " and not (first or after_space or at_end):
                buf.append(" ")
                after_space = True
            else:
                buf.append(_android_char(char, first, encodable))
                after_space = False
            first = False
        out.append((False, "".join(buf)))
    return out


def _android_char(char: str, first: bool, encodable: Callable[[str], bool]) -> str:
    if char in _ANDROID_ENCODE:
        return _ANDROID_ENCODE[char]
    if first and char in "@?":
        return "\\" + char
    if char in " \r\x0b\x0c" or INVALID_XML_CHAR.match(char) or not encodable(char):
        units = char.encode("utf-16-be", "surrogatepass")
        return "".join(f"\\u{units[i] << 8 | units[i + 1]:04X}" for i in range(0, len(units), 2))
    return char


# ---------------------------------------------------------------------------------------------
# The Android format
# ---------------------------------------------------------------------------------------------

Kind = Literal["string", "plurals", "string-array"]
QUANTITIES = ("zero", "one", "two", "few", "many", "other")
_KINDS: tuple[Kind, ...] = ("string", "plurals", "string-array")
_LEAVES = frozenset({"string", "item"})
"""Elements whose inner markup is value text, never structure."""
# Array items with nothing to translate: resource references (raw, unescaped) and plain numbers.
_REFERENCE = re.compile(r"\s*(?:[@?](?:[\w.]+:)?[\w.]+/[\w.]+|@null)\s*")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_PREFIX_USE = re.compile(r"</?([A-Za-z_][\w.\-]*):|\s([A-Za-z_][\w.\-]*):[\w.\-]+\s*=")


@dataclass(frozen=True, slots=True)
class AndroidLeaf:
    """One entry: the element holding it (``<string>`` or ``<item>``) and how it was written."""

    key: str
    node: XmlNode
    open_tag: str
    """The raw start tag, copied when a new element is made from this one."""
    value: str
    cdata: bool
    """The content was one CDATA section: changed values are written as CDATA too."""
    text_tags: bool
    """The content wrote tags as escaped text (``&lt;a>``): changed values' tags are escaped too."""
    segment: str = ""
    """``#one`` for a plural form, ``0`` for an array item, empty for a string."""


@dataclass(frozen=True, slots=True)
class AndroidResource:
    """A translatable resource: a ``<string>``, ``<plurals>`` or ``<string-array>`` element."""

    name: str
    kind: Kind
    node: XmlNode
    open_tag: str
    leaves: tuple[AndroidLeaf, ...]


@dataclass(frozen=True, slots=True)
class AndroidLayout:
    """Everything ``render`` needs besides the entries: the document and its resources."""

    doc: XmlDoc
    resources: tuple[AndroidResource, ...]
    by_name: Mapping[str, AndroidResource]
    named: Mapping[str, XmlNode]
    """Every top-level string/plurals/string-array element by name, translatable or not."""
    style: EscapeStyle
    indent: bytes
    """The most common indentation of the top-level elements."""


def _layout_of(parsed: ParsedFile) -> AndroidLayout:
    if not isinstance(parsed.layout, AndroidLayout):
        raise TypeError("this ParsedFile was not produced by the android format")
    return parsed.layout


class _Reader:
    """Collects the resources and entries of one ``<resources>`` document."""

    def __init__(self, doc: XmlDoc) -> None:
        self.doc = doc
        self.counts = StyleCounts()
        self.entries: dict[str, Leaf] = {}
        self.resources: list[AndroidResource] = []
        self.named: dict[str, XmlNode] = {}

    def read(self) -> None:
        for node in self.doc.root.children:
            if node.name not in _KINDS:
                continue
            name = node.attrs.get("name")
            if not name:
                raise self.doc.fail(node.start, f"<{node.name}> has no name attribute")
            if name in self.named:
                raise self.doc.fail(node.start, f"duplicate resource name {name!r}")
            self.named[name] = node
            if node.attrs.get("translatable") == "false":
                continue
            leaves = self.string(node, name) if node.name == "string" else self.items(node, name)
            if leaves:
                kind: Kind = (
                    "string" if node.name == "string" else "plurals" if node.name == "plurals" else "string-array"
                )
                self.resources.append(
                    AndroidResource(name, kind, node, self.doc.text(node.start, node.open_end), leaves)
                )
                self.entries.update((leaf.key, leaf.value) for leaf in leaves)

    def string(self, node: XmlNode, name: str) -> tuple[AndroidLeaf, ...]:
        return (self.leaf(node, keypaths.escape(name), ""),)

    def items(self, node: XmlNode, name: str) -> tuple[AndroidLeaf, ...]:
        """Plural forms keyed ``#quantity``, array items keyed by position (references skipped)."""
        leaves: list[AndroidLeaf] = []
        seen: set[str] = set()
        for index, item in enumerate(c for c in node.children if c.name == "item"):
            segment = str(index)
            if node.name == "plurals":
                quantity = item.attrs.get("quantity")
                if not quantity:
                    raise self.doc.fail(item.start, f"an <item> of plurals {name!r} has no quantity")
                if quantity in seen:
                    raise self.doc.fail(item.start, f"plurals {name!r} has two {quantity!r} items")
                seen.add(quantity)
                segment = "#" + quantity
            leaf = self.leaf(item, keypaths.join([name, segment]), segment)
            if node.name == "plurals" or not _untranslatable_item(self.doc.inner(item), leaf.value):
                leaves.append(leaf)
        return tuple(leaves)

    def leaf(self, node: XmlNode, key: str, segment: str) -> AndroidLeaf:
        raw = self.doc.inner(node)
        tokens = content_tokens(raw, self.counts)
        open_tag = self.doc.text(node.start, node.open_end)
        return AndroidLeaf(key, node, open_tag, android_unescape(tokens), cdata_only(tokens), "&lt;" in raw, segment)


def _untranslatable_item(raw: str, value: str) -> bool:
    """An array item that is a resource reference (``@string/x``, not ``\\@x``) or a number."""
    return _REFERENCE.fullmatch(raw) is not None or _NUMBER.fullmatch(value) is not None


def _common_indent(doc: XmlDoc, nodes: Iterable[XmlNode]) -> bytes:
    indents = Counter(i for i in (indent_before(doc.data, n.start) for n in nodes) if i is not None)
    return indents.most_common(1)[0][0] if indents else b"    "


def _split_key(key: str) -> tuple[str, str]:
    """``name`` -> (name, ""), ``name/#one`` -> (name, "#one"), ``name/2`` -> (name, "2")."""
    segments = keypaths.split(key)
    if len(segments) == 1:
        return segments[0], ""
    if len(segments) == 2 and (segments[1].startswith("#") or segments[1].isdigit()):
        return segments[0], segments[1]
    raise ValueError(f"key {key!r} is not a string name, a plural form (name/#one) or an array item (name/0)")


def _rank(segment: str) -> int:
    """Sort position of a part: CLDR order for plural forms, the index for array items."""
    if segment.startswith("#"):
        quantity = segment[1:]
        return QUANTITIES.index(quantity) if quantity in QUANTITIES else len(QUANTITIES)
    return int(segment) if segment.isdigit() else -1


def _ordered(segments: Iterable[str]) -> list[str]:
    return sorted(segments, key=lambda s: (_rank(s), s))


class _AndroidRender:
    """One ``render`` call: a plan of edits on the base file (the target, or else the source)."""

    def __init__(self, values: dict[str, str], source: ParsedFile, target: ParsedFile | None) -> None:
        self.values = values
        self.src = _layout_of(source)
        self.new_file = target is None
        self.base = _layout_of(target if target is not None else source)
        self.doc = self.base.doc
        self.plan = SplicePlan(self.doc)
        self.written: set[str] = set()
        self.new_text: list[str] = []  # written values and copied start tags, for declare_prefixes
        self.kept: dict[str, XmlNode] = {}
        self.parts: dict[str, list[str]] = {}
        for key in values:
            name, segment = _split_key(key)
            self.parts.setdefault(name, []).append(segment)

    def run(self) -> bytes:
        for res in self.base.resources:
            self.update(res)
        if self.new_file:
            self.drop_untranslatable()
        self.drop_orphan_comments()
        self.add_missing()
        unwritten = [key for key in self.values if key not in self.written]
        if unwritten:
            raise ValueError(f"keys {unwritten[:5]!r} do not fit the source's resources (string vs plurals vs array)")
        self.declare_prefixes()
        return self.plan.render()

    # --- resources already in the base file -------------------------------------------------

    def update(self, res: AndroidResource) -> None:
        """Edit changed values in place, remove dropped ones, add missing plural forms/items."""
        known = {leaf.segment for leaf in res.leaves}
        new = [s for s in self.parts.get(res.name, []) if s not in known]
        if res.kind == "string" or any(not s or _kind(s) != res.kind for s in new):
            new = []  # a mismatch is reported by run() as unwritten
        if not new and not any(leaf.key in self.values for leaf in res.leaves):
            self.plan.remove(res.node)
            return
        self.kept[res.name] = res.node
        for leaf in res.leaves:
            if leaf.key not in self.values:
                self.plan.remove(leaf.node)
                continue
            self.written.add(leaf.key)
            if self.values[leaf.key] != leaf.value:
                self.plan.set_content(leaf.node, self.content(self.values[leaf.key], leaf))
        for segment in _ordered(new):
            self.add_item(res, segment)

    def add_item(self, res: AndroidResource, segment: str) -> None:
        """Add a plural form (in CLDR order) or an array item (at the end) to an existing element."""
        key = keypaths.join([res.name, segment])
        like = self.src.by_name.get(res.name, res).leaves
        leaf = next((lf for lf in like if lf.segment == segment), like[0])
        block = self.item(leaf, segment, key)
        items = [c for c in res.node.children if c.name == "item"]
        kept = [c for c in items if id(c) not in self.plan.removed]
        if res.kind == "plurals":
            earlier = {lf.node for lf in res.leaves if lf.key in self.values and _rank(lf.segment) < _rank(segment)}
            kept = [c for c in kept if c in earlier]
        if kept:
            self.plan.place_after(kept[-1], indent_before(self.doc.data, kept[-1].start) or b"", block)
        elif items:
            self.plan.place_before(items[0], indent_before(self.doc.data, items[0].start) or b"", block)
        else:
            self.plan.place_into(res.node, (indent_before(self.doc.data, res.node.start) or b"") * 2, block)

    def drop_untranslatable(self) -> None:
        """A new target holds translations only: no ``translatable="false"``, integers, colors..."""
        translatable = {id(res.node) for res in self.base.resources}
        for node in self.doc.root.children:
            if id(node) not in translatable:
                self.plan.remove(node)

    def drop_orphan_comments(self) -> None:
        """Remove a comment whose section (elements up to a blank line or comment) all went away."""
        data, root = self.doc.data, self.doc.root
        events: list[tuple[int, int, XmlNode | None]] = [(s, e, None) for s, e in root.comments or ()]
        events += [(n.start, n.end, n) for n in root.children]
        events.sort(key=lambda event: event[0])
        events.append((root.close_start, root.close_start, None))
        section: tuple[int, int] | None = None
        members: list[XmlNode] = []
        previous_end = root.open_end
        for start, end, node in events:
            if node is None or data.count(b"\n", previous_end, start) > 1:
                gone = section and members and all(id(m) in self.plan.removed for m in members)
                if section and gone and own_lines(data, *section):
                    self.plan.remove_span(*section)
                section, members = ((start, end) if node is None else None), []
            elif section is not None:
                members.append(node)
            previous_end = end

    # --- resources the base file does not have ----------------------------------------------

    def add_missing(self) -> None:
        """New resources in source order, each after the nearest earlier one the file keeps."""
        indent = self.base.indent if self.base.resources else self.src.indent
        order = [res.name for res in self.src.resources]
        position = {name: i for i, name in enumerate(order)}
        missing = [n for n in order if n in self.parts and n not in self.kept]
        missing += [n for n in self.parts if n not in self.kept and n not in position]
        for name in missing:
            block = self.element(name, indent)
            if block is None:
                continue
            existing = self.base.named.get(name)
            if existing is not None and id(existing) not in self.plan.removed:
                # the target has an untranslatable copy: the translation takes its place
                self.plan.replace(existing.start, existing.end, block)
                continue
            earlier = order[: position.get(name, len(order))]
            anchor = next((self.kept[n] for n in reversed(earlier) if n in self.kept), None)
            self.place(anchor, name in position, indent, block)

    def place(self, anchor: XmlNode | None, in_source: bool, indent: bytes, block: bytes) -> None:
        children = self.doc.root.children
        if anchor is None and not in_source:
            kept = [n for n in children if id(n) not in self.plan.removed]
            anchor = kept[-1] if kept else None
        if anchor is not None:
            self.plan.place_after(anchor, indent, block)
        elif children:
            self.plan.place_before(children[0], indent, block)
        else:
            self.plan.place_into(self.doc.root, indent, block)

    def element(self, name: str, indent: bytes) -> bytes | None:
        """A new element for ``name``, copied from the source's element (or made from scratch)."""
        template = self.src.by_name.get(name)
        parts = self.parts[name]
        kind: Kind = template.kind if template is not None else "string" if parts == [""] else _kind(parts[0])
        if kind == "string":
            key = keypaths.escape(name)
            if key not in self.values:
                return None
            self.written.add(key)
            leaf = template.leaves[0] if template is not None else None
            opened = _unclose(template.open_tag) if template is not None else f'<string name="{attr_escape(name)}">'
            self.new_text.append(opened)
            return self.doc.encode(opened) + self.content(self.values[key], leaf) + b"</string>"
        return self.container(name, kind, template, indent)

    def container(self, name: str, kind: Kind, template: AndroidResource | None, indent: bytes) -> bytes | None:
        """A new ``<plurals>`` or ``<string-array>``, laid out like the source's element."""
        wanted = [s for s in _ordered(self.parts[name]) if s and _kind(s) == kind]
        if not wanted:
            return None
        if template is None:
            opened = f'<{kind} name="{attr_escape(name)}">'
            first = between = self.doc.newline + indent * 2
            closing = self.doc.newline + indent
            blocks = [self.item(None, s, keypaths.join([name, s])) for s in wanted]
        else:
            opened = _unclose(template.open_tag)
            self.new_text.append(opened)
            first, between, closing = self.separators(template, indent)
            blocks = self.container_items(name, template, wanted)
        return self.doc.encode(opened) + first + between.join(blocks) + closing + f"</{kind}>".encode()

    def separators(self, template: AndroidResource, indent: bytes) -> tuple[bytes, bytes, bytes]:
        """The bytes before the first item, between items and after the last, re-indented."""
        data, node = self.src.doc.data, template.node
        items = [c for c in node.children if c.name == "item"]
        old = indent_before(data, node.start) or b""
        first = reindent(data[node.open_end : items[0].start], old, indent)
        between = reindent(data[items[0].end : items[1].start], old, indent) if len(items) > 1 else first
        return first, between, reindent(data[items[-1].end : node.close_start], old, indent)

    def container_items(self, name: str, template: AndroidResource, wanted: list[str]) -> list[bytes]:
        """Plural forms in CLDR order; array items in source order, references copied as they are."""
        by_segment = {leaf.segment: leaf for leaf in template.leaves}
        if template.kind == "plurals":
            return [self.item(by_segment.get(s, template.leaves[0]), s, keypaths.join([name, s])) for s in wanted]
        data = self.src.doc.data
        items = [c for c in template.node.children if c.name == "item"]
        blocks: list[bytes] = []
        for index, node in enumerate(items):
            leaf = by_segment.get(str(index))
            if leaf is None:
                blocks.append(data[node.start : node.end])
            elif str(index) in wanted:
                blocks.append(self.item(leaf, str(index), keypaths.join([name, str(index)])))
        extra = [s for s in wanted if int(s) >= len(items)]
        return blocks + [self.item(template.leaves[-1], s, keypaths.join([name, s])) for s in extra]

    def item(self, like: AndroidLeaf | None, segment: str, key: str) -> bytes:
        """One ``<item>`` holding the value of ``key``, its start tag copied from ``like``."""
        opened = _unclose(like.open_tag) if like is not None else "<item>"
        if segment.startswith("#"):
            opened = retag(opened, {"quantity": segment[1:]})
        self.new_text.append(opened)
        self.written.add(key)
        return self.doc.encode(opened) + self.content(self.values[key], like) + b"</item>"

    # --- values -----------------------------------------------------------------------------

    def content(self, value: str, like: AndroidLeaf | None) -> bytes:
        """The escaped content for ``value``, in the style of the element it replaces or copies."""
        self.new_text.append(value)
        encodable = self.doc.encodable()
        if like is not None and like.cdata:
            escaped = android_escape([(False, value)], encodable)
            return self.doc.encode(cdata_section(escaped[0][1]))
        text_tags = like.text_tags if like is not None else False
        pieces = android_escape(split_markup(value, tags=not text_tags, entities=self.doc.entities), encodable)
        text = "".join(t if markup else escape_text(t, self.base.style, self.doc.newline) for markup, t in pieces)
        return self.doc.encode(text)

    def declare_prefixes(self) -> None:
        """Declare on the target's root the prefixes (``xliff:``, ``tools:``) that new content uses."""
        if self.new_file:
            return
        declared, available = self.doc.root.attrs, self.src.doc.root.attrs
        wanted: dict[str, str] = {}
        for value in self.new_text:
            for match in _PREFIX_USE.finditer(value):
                attr = f"xmlns:{match.group(1) or match.group(2)}"
                if attr not in declared and attr in available:
                    wanted[attr] = available[attr]
        if wanted:
            self.plan.set_attrs(self.doc.root, wanted)


def _kind(segment: str) -> Kind:
    return "plurals" if segment.startswith("#") else "string-array"


class AndroidStringsFormat(Format):
    """``res/values*/strings.xml``: strings, plurals and string arrays of an Android app."""

    name: ClassVar[str] = "android"
    extensions: ClassVar[tuple[str, ...]] = (".xml",)

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        doc = scan_xml(data, path, _LEAVES)
        if doc.root.name != "resources":
            raise doc.fail(doc.root.start, f"the root element must be <resources>, not <{doc.root.name}>")
        reader = _Reader(doc)
        reader.read()
        resources = tuple(reader.resources)
        layout = AndroidLayout(
            doc=doc,
            resources=resources,
            by_name={res.name: res for res in resources},
            named=reader.named,
            style=reader.counts.style(),
            indent=_common_indent(doc, doc.root.children),
        )
        return ParsedFile(entries=reader.entries, raw=data, layout=layout)

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        strings = coerce_values(values)
        if target is not None and strings == target.entries:
            return target.raw
        return _AndroidRender(strings, source, target).run()
