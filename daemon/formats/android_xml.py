"""Android string resources (``res/values*/strings.xml``), rewritten byte for byte.

What parses the format: the standard library's expat (``xml.parsers.expat``). It checks that the
file is well-formed and tells where each element starts (``CurrentByteIndex``); we never let it
build values or re-serialize anything. Hand-written on top of it, and why:

- **Span splicing** (``scan_xml`` in ``daemon.formats._xml``, ``SplicePlan`` in
  ``daemon.formats._xml_splice``). Serializing a tree loses what translators and
  reviewers see in diffs: attribute order and quoting, comments, blank lines, indentation,
  CDATA, the XML declaration, a missing final newline. So ``parse`` records each element's
  byte span and ``render`` edits only the spans of changed values, inserts new elements after
  their predecessor in source order and removes deleted ones with their line. An unchanged
  file is returned as is; a changed value touches only its own line(s).
- **A content tokenizer** (``content_tokens`` in ``daemon.formats._xml_content``), because the
  inner bytes of an element are read raw: inline markup (``<b>``, ``<xliff:g id="x">%s</xliff:g>``)
  stays in the value verbatim, as markup text, character references are decoded, CDATA is text.
- **Android string escapes** (``android_unescape``/``android_escape`` in
  ``daemon.formats._android_escapes``), following aapt2's ``StringBuilder``: outside double
  quotes, whitespace runs collapse to one space and leading or trailing collapsed whitespace is
  dropped; ``"`` toggles quoting (and is removed); ``\\'``,
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

Safety (see ``daemon.formats._xml``): expat never expands entities, and DTD entity declarations
are refused unless they are short plain text, which rules out "billion laughs" and external
entity tricks while keeping Termux's file readable. Files in UTF-16/32 are refused; every other
failure is a ``FormatError`` with line and column.

The XML machinery (``_xml``, ``_xml_splice``, ``_xml_content``) is shared with
``daemon.formats.xliff``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from daemon import keypaths
from daemon.formats._android_escapes import android_escape, android_unescape
from daemon.formats._xml import XmlDoc, XmlNode, indent_before, own_lines, reindent, scan_xml
from daemon.formats._xml_content import (
    EscapeStyle,
    StyleCounts,
    cdata_only,
    cdata_section,
    coerce_values,
    content_tokens,
    escape_text,
    split_markup,
)
from daemon.formats._xml_splice import SplicePlan, attr_escape, retag, unclose
from daemon.formats.base import Format, Leaf, ParsedFile

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
            opened = unclose(template.open_tag) if template is not None else f'<string name="{attr_escape(name)}">'
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
            opened = unclose(template.open_tag)
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
        opened = unclose(like.open_tag) if like is not None else "<item>"
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
