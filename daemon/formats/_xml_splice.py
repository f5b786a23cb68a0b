"""Editing an XML file by byte spans: what the XML formats do instead of serialising a tree.

Serialising a tree loses what translators and reviewers see in diffs: attribute order and
quoting, comments, blank lines, indentation, CDATA, the XML declaration, a missing final
newline. So a render records element-level operations on the scanned document
(``SplicePlan``: change content or attributes, remove an element with its line, place new
elements after, before or into others) and applies them as byte edits to the original bytes;
an unchanged file comes back as it was.

``splice`` differs from ``daemon.formats._splice`` on purpose: it works on bytes, within an
optional window (XLIFF copies one unit out of the source file), and insertions at one offset
keep the order in which they were recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from daemon.formats._splice import OverlappingEdits
from daemon.formats._xml import EOL, XmlDoc, XmlNode, indent_before, line_start, own_lines

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
            raise OverlappingEdits(f"overlapping edits at byte {edit.start}")
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
            blank_after = EOL.match(data, end)
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
                opened = unclose(self.open_tag(node))
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
            eol = EOL.match(data, node.end)
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
            opened = self.doc.encode(unclose(self.open_tag(node)))
            return Edit(node.start, node.end, opened + nl + lines + own + _close(node))
        if indent_before(data, node.close_start) is not None:
            at = line_start(data, node.close_start)
            return Edit(at, at, lines)
        return Edit(node.close_start, node.close_start, nl + lines + own)

    def render(self) -> bytes:
        return self.doc.data if self.empty else splice(self.doc.data, self.edits())


def unclose(open_tag: str) -> str:
    """``<a b="c"/>`` -> ``<a b="c">``."""
    return re.sub(r"\s*/>$", ">", open_tag)


def _close(node: XmlNode) -> bytes:
    return f"</{node.name}>".encode("ascii", "xmlcharrefreplace")
