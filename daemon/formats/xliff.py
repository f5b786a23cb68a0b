"""XLIFF 1.2 and 2.0 (``.xlf``/``.xliff``), as written by Angular, Symfony and CAT tools.

What parses the format: the standard library's expat, through the span scanner shared with
``daemon.formats.android_xml`` (``scan_xml`` in ``daemon.formats._xml``): expat checks well-formedness and reports where
each element starts; nothing re-serializes the tree. Hand-written, and why: the same span
splicing as for Android (an unchanged file is returned byte for byte; a new translation touches
only its ``<target>`` line; new units are copies of the source's unit, placed after their
predecessor in source order), because an XLIFF file carries far more than the strings (notes,
context groups, Angular's source locations, attribute order, the XML declaration on the same
line as ``<xliff>``...) and every tree serializer rewrites some of it.

Version: ``<xliff version="2.x">`` (or the 2.0 namespace) is XLIFF 2 (``<unit>`` ->
``<segment>`` -> ``<source>``/``<target>``, languages in ``srcLang``/``trgLang`` on the root);
anything else is read as 1.2 (``<trans-unit>`` -> ``<source>``/``<target>``, languages on
each ``<file>``).

Keys: the unit ``id``; ids are unique within a ``<file>`` (both versions require it, and every
corpus file has a single ``<file>``), so a document with several ``<file>`` elements prefixes the
key with the file's ``original`` (1.2) or ``id`` (2.0): ``ng2.template/login.title``. A 2.0 unit
with several segments gives one key per segment, ``unit/segment-id`` (or the segment's index).
Groups do not take part in keys. Units with ``translate="no"`` are not entries.

Values: the content of ``<source>`` or ``<target>``, text unescaped, inline elements (``<x/>``,
``<g>``, ``<ph>``, ``<pc>``, Angular's ``<x id="INTERPOLATION" equiv-text="..."/>``...) kept
verbatim, so translators see placeholders and we write them back untouched. On write, text is
escaped in the file's own style (``&apos;``/``&quot;``/``&gt;`` used if the file mostly uses them);
tags of XLIFF inline elements that form well-formed XML stay markup, anything else is text.
ICU and Symfony ``|`` plurals are ordinary text: XLIFF has no plural structure of its own.

Which side is read: a file parsed for its target locale (``target-language``/``trgLang``), or
for an unknown locale when it declares a target language or holds ``<target>`` elements, gives
target values; otherwise (Angular's ``messages.xlf`` in the source locale) source values. A
target that is absent, empty, or marked untranslated (1.2 ``state="new"`` or
``"needs-translation"``, 2.0 segment ``state="initial"``) is an absent entry, so the daemon
translates it instead of keeping the copied source text.

Writing targets: a changed target keeps its element and attributes; if it has a ``state`` it
becomes ``"translated"`` (1.2 ``<target>``, 2.0 ``<segment>``). A missing ``<target>`` is
inserted after ``<source>`` (or 1.2 ``<seg-source>``) with the same indentation, with
``state="translated"`` if the file puts states on its targets. A new target file copies the
source file and sets ``target-language``/``trgLang`` to the locale. A translation the values
drop loses its ``<target>``; a unit the source no longer has is removed. When a unit's target is
rewritten and the source file's ``<source>`` text differs from the target file's copy, that copy
is updated too. A file read for its source side (no targets) is rendered by editing ``<source>``.
Characters XML 1.0 cannot carry at all (most C0 controls) are dropped on write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from daemon import keypaths
from daemon.formats._xml import XmlDoc, XmlNode, indent_before, reindent, scan_xml
from daemon.formats._xml_content import (
    INVALID_XML_CHAR,
    EscapeStyle,
    StyleCounts,
    cdata_only,
    cdata_section,
    coerce_values,
    content_tokens,
    escape_text,
    split_markup,
)
from daemon.formats._xml_splice import SplicePlan, attr_escape, splice
from daemon.formats.base import Format, Leaf, ParsedFile

Version = Literal[1, 2]

INLINE_ELEMENTS = frozenset(
    {"g", "x", "bx", "ex", "bpt", "ept", "ph", "it", "mrk", "sub", "cp", "pc", "sc", "ec", "sm", "em"}
)
"""XLIFF 1.2 and 2.0 inline elements: written as markup when a value holds them."""

_UNTRANSLATED_1_2 = frozenset({"new", "needs-translation"})
_LEAVES = frozenset({"source", "target", "seg-source", "context-group", "note", "notes", "alt-trans", "header"})
"""Elements whose insides are content or metadata, never units: no nodes are built inside them."""
_XLIFF_2_NAMESPACE = "urn:oasis:names:tc:xliff:document:2.0"


@dataclass(frozen=True, slots=True)
class XliffSegment:
    """One entry: a 1.2 ``<trans-unit>`` or one 2.0 ``<segment>`` with its source and target."""

    key: str
    holder: XmlNode
    """The element holding ``<source>`` and ``<target>``: the trans-unit (1.2) or the segment (2.0)."""
    source: XmlNode
    after: XmlNode
    """Where a new ``<target>`` goes: after ``<source>``, or after a 1.2 ``<seg-source>``."""
    target: XmlNode | None
    source_value: str
    target_value: str | None
    """None when the target is absent, empty or marked untranslated."""
    source_cdata: bool
    target_cdata: bool


@dataclass(frozen=True, slots=True)
class XliffUnit:
    """A ``<trans-unit>`` or ``<unit>``, keyed like its entries without the segment part."""

    key: str
    node: XmlNode
    file: int
    segments: tuple[XliffSegment, ...]


@dataclass(frozen=True, slots=True)
class XliffLayout:
    """Everything ``render`` needs besides the entries."""

    doc: XmlDoc
    version: Version
    files: tuple[XmlNode, ...]
    units: tuple[XliffUnit, ...]
    units_by_key: Mapping[str, XliffUnit]
    segments: Mapping[str, XliffSegment]
    untranslatable: frozenset[str]
    """Keys of ``translate="no"`` units: never entries, and no other unit may take their id."""
    reads_targets: bool
    uses_states: bool
    """Some 1.2 ``<target>`` has a ``state`` attribute: inserted targets get one too."""
    style: EscapeStyle


def _layout_of(parsed: ParsedFile) -> XliffLayout:
    if not isinstance(parsed.layout, XliffLayout):
        raise TypeError("this ParsedFile was not produced by the xliff format")
    return parsed.layout


def same_locale(a: str, b: str) -> bool:
    """``de`` matches ``de``, ``de-DE`` and ``de_DE``; ``de-AT`` does not match ``de-CH``."""
    a, b = a.lower().replace("_", "-"), b.lower().replace("_", "-")
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def _child(node: XmlNode, local: str) -> XmlNode | None:
    return next((c for c in node.children if c.local == local), None)


class _Reader:
    """Collects the units of one document."""

    def __init__(self, doc: XmlDoc, version: Version) -> None:
        self.doc = doc
        self.version = version
        self.counts = StyleCounts()
        self.units: list[XliffUnit] = []
        self.segments: dict[str, XliffSegment] = {}
        self.untranslatable: set[str] = set()
        self.files = tuple(c for c in doc.root.children if c.local == "file")

    def read(self) -> None:
        unit_name = "unit" if self.version == 2 else "trans-unit"
        for index, file in enumerate(self.files):
            prefix = [self.file_key(file, index)] if len(self.files) > 1 else []
            for node in _find(file, unit_name):
                unit_id = node.attrs.get("id")
                if unit_id is None:
                    raise self.doc.fail(node.start, f"<{node.name}> has no id attribute")
                key = keypaths.join([*prefix, unit_id])
                if node.attrs.get("translate") == "no":
                    self.untranslatable.add(key)
                    continue
                segments = self.unit_segments(node, key)
                self.units.append(XliffUnit(key, node, index, segments))

    def file_key(self, file: XmlNode, index: int) -> str:
        name = file.attrs.get("id" if self.version == 2 else "original")
        return name if name else str(index)

    def unit_segments(self, node: XmlNode, key: str) -> tuple[XliffSegment, ...]:
        if self.version == 1:
            return (self.segment(node, key),)
        holders = [c for c in node.children if c.local == "segment"]
        if len(holders) == 1:
            return (self.segment(holders[0], key),)
        return tuple(
            self.segment(h, key + "/" + keypaths.escape(h.attrs.get("id") or str(i))) for i, h in enumerate(holders)
        )

    def segment(self, holder: XmlNode, key: str) -> XliffSegment:
        if key in self.segments:
            raise self.doc.fail(holder.start, f"duplicate id: key {key!r} appears twice")
        source = _child(holder, "source")
        if source is None:
            raise self.doc.fail(holder.start, f"<{holder.name}> has no <source>")
        target = _child(holder, "target")
        source_value, source_cdata = self.value(source)
        target_value, target_cdata = self.value(target) if target is not None else ("", False)
        untranslated = (
            holder.attrs.get("state") == "initial"
            if self.version == 2
            else target is not None and target.attrs.get("state") in _UNTRANSLATED_1_2
        )
        segment = XliffSegment(
            key=key,
            holder=holder,
            source=source,
            after=(_child(holder, "seg-source") if self.version == 1 else None) or source,
            target=target,
            source_value=source_value,
            target_value=target_value if target_value and not untranslated else None,
            source_cdata=source_cdata,
            target_cdata=target_cdata,
        )
        self.segments[key] = segment
        return segment

    def value(self, node: XmlNode) -> tuple[str, bool]:
        """The content with text unescaped and inline elements verbatim; whether it was CDATA."""
        tokens = content_tokens(self.doc.inner(node), self.counts)
        return "".join(t.text for t in tokens), cdata_only(tokens)


def _find(node: XmlNode, local: str) -> Iterator[XmlNode]:
    """Elements named ``local`` below ``node``, in document order, not looking inside them."""
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if child.local == local:
            yield child
        else:
            stack.extend(reversed(child.children))


def _version_of(root: XmlNode) -> Version:
    declared = root.attrs.get("version", "")
    return 2 if declared.startswith("2") or root.attrs.get("xmlns") == _XLIFF_2_NAMESPACE else 1


def _languages(doc: XmlDoc, version: Version, files: tuple[XmlNode, ...]) -> tuple[str | None, list[str]]:
    """The source language and the declared target languages."""
    if version == 2:
        target = doc.root.attrs.get("trgLang")
        return doc.root.attrs.get("srcLang"), [target] if target else []
    source = next((f.attrs["source-language"] for f in files if "source-language" in f.attrs), None)
    return source, [f.attrs["target-language"] for f in files if f.attrs.get("target-language")]


def _reads_targets(
    locale: str | None, source: str | None, targets: list[str], segments: Mapping[str, XliffSegment]
) -> bool:
    if locale is not None:
        if any(same_locale(locale, t) for t in targets):
            return True
        return not (source and same_locale(locale, source))
    return bool(targets) or any(s.target is not None for s in segments.values())


class _XliffRender:
    """One ``render`` call: a plan of edits on the base file (the target, or else the source)."""

    def __init__(
        self, values: dict[str, str], source: ParsedFile, target: ParsedFile | None, locale: str | None
    ) -> None:
        self.src = _layout_of(source)
        self.base = _layout_of(target if target is not None else source)
        self.new_file = target is None
        self.targets = self.new_file or self.base.reads_targets
        self.values = {k: v for k, v in values.items() if v or not self.targets}  # an empty target is no target
        self.locale = locale
        self.doc = self.base.doc
        self.plan = SplicePlan(self.doc)
        self.kept: dict[str, XmlNode] = {}
        self.written: set[str] = set()

    def run(self) -> bytes:
        for unit in self.base.units:
            self.update(unit)
        self.add_missing()
        self.set_language()
        return self.plan.render()

    # --- units already in the base file -----------------------------------------------------

    def update(self, unit: XliffUnit) -> None:
        """Write a unit's values; drop the unit if the source no longer has it (or, sources only, no value)."""
        wanted = any(s.key in self.values for s in unit.segments)
        obsolete = unit.key not in self.src.units_by_key
        if not wanted and (not self.targets or (obsolete and not self.new_file)):
            self.plan.remove(unit.node)
            return
        self.kept[unit.key] = unit.node
        for segment in unit.segments:
            self.segment(self.plan, self.base, segment)

    def segment(self, plan: SplicePlan, layout: XliffLayout, segment: XliffSegment) -> None:
        """Write (or drop) the value of one segment, in ``layout``'s document."""
        value = self.values.get(segment.key)
        copying = self.new_file or plan.doc is not self.doc
        if value is not None:
            self.written.add(segment.key)
        if not self.targets:
            if value is not None and value != segment.source_value:
                plan.set_content(segment.source, self.content(layout.doc, value, segment.source_cdata))
        elif value is not None:
            self.write_target(plan, layout, segment, value)
        elif segment.target is not None and (copying or segment.target_value is not None):
            plan.remove(segment.target)  # a dropped translation, or the source file's own target
            if layout.version == 2 and "state" in segment.holder.attrs:
                plan.set_attrs(segment.holder, {"state": "initial"})

    def write_target(self, plan: SplicePlan, layout: XliffLayout, segment: XliffSegment, value: str) -> None:
        """Replace or insert the ``<target>``, mark it translated where the file tracks states."""
        doc = layout.doc
        if segment.target is not None:
            if segment.target_value == value:
                return
            plan.set_content(segment.target, self.content(doc, value, segment.target_cdata))
            if layout.version == 1 and "state" in segment.target.attrs:
                plan.set_attrs(segment.target, {"state": "translated"})
        else:
            prefix = segment.source.name[: -len(segment.source.local)]
            state = ' state="translated"' if layout.version == 1 and self.base.uses_states else ""
            block = (
                f"<{prefix}target{state}>".encode() + self.content(doc, value, False) + f"</{prefix}target>".encode()
            )
            plan.place_after(segment.after, indent_before(doc.data, segment.after.start) or b"", block)
        if layout.version == 2 and "state" in segment.holder.attrs:
            plan.set_attrs(segment.holder, {"state": "translated"})
        self.sync_source(plan, segment)

    def sync_source(self, plan: SplicePlan, segment: XliffSegment) -> None:
        """Bring the target file's copy of ``<source>`` in line with the source file's."""
        if plan.doc is not self.doc or self.src is self.base:
            return
        fresh = self.src.segments.get(segment.key)
        if fresh is None:
            return
        text = self.src.doc.inner(fresh.source)
        if text != self.doc.inner(segment.source):
            plan.set_content(segment.source, self.doc.encode(text))

    def content(self, doc: XmlDoc, value: str, cdata: bool) -> bytes:
        """Escaped content for ``value`` in the base file's style (CDATA if it was CDATA)."""
        encodable = doc.encodable()
        if cdata and not INVALID_XML_CHAR.search(value) and "\r" not in value and all(map(encodable, value)):
            return doc.encode(cdata_section(value.replace("\n", self.doc.newline.decode("ascii"))))
        pieces = split_markup(value, tags=True, entities=self.doc.entities, allowed=INLINE_ELEMENTS.__contains__)
        text = "".join(t if markup else escape_text(t, self.base.style, self.doc.newline) for markup, t in pieces)
        return doc.encode(text)

    # --- units the base file does not have --------------------------------------------------

    def add_missing(self) -> None:
        """Copy the source's units the base lacks, each after the nearest earlier kept unit."""
        order = [u.key for u in self.src.units]
        for index, unit in enumerate(self.src.units):
            if unit.key in self.base.units_by_key or not any(s.key in self.values for s in unit.segments):
                continue
            anchor = next((self.kept[k] for k in reversed(order[:index]) if k in self.kept), None)
            self.insert(unit, anchor)
        for key in [k for k in self.values if k not in self.written]:
            self.synthesize(key)

    def insert(self, unit: XliffUnit, anchor: XmlNode | None) -> None:
        """Place a copy of a source unit (its targets set from the values) after ``anchor``."""
        copy = SplicePlan(self.src.doc)
        for segment in unit.segments:
            self.segment(copy, self.src, segment)
        src_data = self.src.doc.data
        block = splice(src_data, copy.edits(), unit.node.start, unit.node.end)
        if self.src.doc.codec != self.doc.codec:
            block = self.doc.encode(block.decode(self.src.doc.codec))
        old = indent_before(src_data, unit.node.start) or b""
        if anchor is not None:
            indent = indent_before(self.doc.data, anchor.start) or old
            self.plan.place_after(anchor, indent, reindent(block, old, indent))
        elif self.base.units:
            first = self.base.units[0].node
            indent = indent_before(self.doc.data, first.start) or old
            self.plan.place_before(first, indent, reindent(block, old, indent))
        else:
            container = self.container(unit.file)
            indent = self.child_indent(container, old)
            self.plan.place_into(container, indent, reindent(block, old, indent))

    def container(self, file_index: int) -> XmlNode:
        """Where units of a file live: 1.2 ``<body>`` (or the file), 2.0 ``<file>``; else the root."""
        files = self.base.files
        if not files:
            return self.doc.root
        file = files[min(file_index, len(files) - 1)]
        body = _child(file, "body") if self.base.version == 1 else None
        return body if body is not None else file

    def child_indent(self, container: XmlNode, fallback: bytes) -> bytes:
        """Indentation for a first child of ``container``: its own plus the file's step."""
        own = indent_before(self.doc.data, container.start)
        if own is None:
            return fallback
        parent = container.parent
        outer = indent_before(self.doc.data, parent.start) if parent is not None else None
        step = own[len(outer) :] if outer is not None and own.startswith(outer) and own != outer else b"  "
        return own + step

    def synthesize(self, key: str) -> None:
        """A unit for a key neither file has: ``<source>`` empty unless we write sources."""
        segments = keypaths.split(key)
        file_index = 0
        if len(self.base.files) > 1 and len(segments) == 2 and segments[0] in self.file_keys():
            file_index = self.file_keys().index(segments[0])
            segments = segments[1:]
        elif len(self.base.files) > 1 or len(segments) != 1:
            raise ValueError(f"key {key!r} is not a unit id of this XLIFF file (a '/' in an id is written ~1)")
        if not self.base.files:
            raise ValueError(f"cannot add {key!r}: the XLIFF file has no <file> element")
        if key in self.base.untranslatable:
            raise ValueError(f'unit {key!r} is marked translate="no" in the target file')
        unit_id = attr_escape(segments[0])
        value = self.content(self.doc, self.values[key], False).decode(self.doc.codec)
        source, target = (value, None) if not self.targets else ("", value)
        container = self.container(file_index)
        last = [u.node for u in self.base.units if u.file == file_index and id(u.node) not in self.plan.removed]
        indent, step = self.child_indent(container, b"  "), b"  "
        if last:
            indent = indent_before(self.doc.data, last[-1].start) or b""
            inner = indent_before(self.doc.data, last[-1].children[0].start) if last[-1].children else None
            if inner and inner.startswith(indent) and inner != indent:
                step = inner[len(indent) :]
        block = self.unit_text(unit_id, source, target, indent, step)
        if last:
            self.plan.place_after(last[-1], indent, block)
        else:
            self.plan.place_into(container, indent, block)
        self.written.add(key)

    def unit_text(self, unit_id: str, source: str, target: str | None, indent: bytes, step: bytes) -> bytes:
        """A minimal unit, one element per line, indented like its neighbours."""
        nl = self.doc.newline.decode("ascii")
        pad, one, two = indent.decode(), step.decode(), step.decode() * 2
        inner = [f"<source>{source}</source>"] + ([f"<target>{target}</target>"] if target is not None else [])
        if self.base.version == 2:
            lines = [
                f'<unit id="{unit_id}">',
                f"{one}<segment>",
                *(two + i for i in inner),
                f"{one}</segment>",
                "</unit>",
            ]
        else:
            lines = [f'<trans-unit id="{unit_id}">', *(one + i for i in inner), "</trans-unit>"]
        return self.doc.encode((nl + pad).join(lines))

    def file_keys(self) -> list[str]:
        name = "id" if self.base.version == 2 else "original"
        return [f.attrs.get(name) or str(i) for i, f in enumerate(self.base.files)]

    def set_language(self) -> None:
        """A new target names its locale; an existing one gets it only if it names none."""
        if not self.targets or not self.locale or (not self.new_file and self.plan.empty):
            return
        attr, after = ("trgLang", "srcLang") if self.base.version == 2 else ("target-language", "source-language")
        holders = [self.doc.root] if self.base.version == 2 else list(self.base.files)
        for holder in holders:
            if self.new_file or not holder.attrs.get(attr):
                self.plan.set_attrs(holder, {attr: self.locale}, after=after)


class XliffFormat(Format):
    """XLIFF 1.2 and 2.0 translation files."""

    name: ClassVar[str] = "xliff"
    extensions: ClassVar[tuple[str, ...]] = (".xlf", ".xliff")

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        doc = scan_xml(data, path, _LEAVES)
        if doc.root.local != "xliff":
            raise doc.fail(doc.root.start, f"the root element must be <xliff>, not <{doc.root.name}>")
        version = _version_of(doc.root)
        reader = _Reader(doc, version)
        reader.read()
        source_language, target_languages = _languages(doc, version, reader.files)
        reads_targets = _reads_targets(locale, source_language, target_languages, reader.segments)
        layout = XliffLayout(
            doc=doc,
            version=version,
            files=reader.files,
            units=tuple(reader.units),
            units_by_key={unit.key: unit for unit in reader.units},
            segments=reader.segments,
            untranslatable=frozenset(reader.untranslatable),
            reads_targets=reads_targets,
            uses_states=any(s.target is not None and "state" in s.target.attrs for s in reader.segments.values()),
            style=reader.counts.style(),
        )
        entries: dict[str, Leaf] = {}
        for key, segment in reader.segments.items():
            value = segment.target_value if reads_targets else segment.source_value
            if value is not None:
                entries[key] = value
        return ParsedFile(entries=entries, raw=data, layout=layout)

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
        return _XliffRender(strings, source, target, locale).run()
