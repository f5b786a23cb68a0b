"""YAML translation files without a locale root (Hugo ``i18n/*.yaml``), and the YAML engine
that ``daemon.formats.rails_yaml`` builds on.

**Parsing: PyYAML's event stream, backed by libyaml** (``CSafeLoader``; the pure-Python parser of
the same package when the C extension is missing). Every event carries exact start and end
marks, aliases included, which is all a writer that edits the original text needs. libyaml is
also the parser under Ruby's Psych, so a Rails file is read exactly as Rails reads it (YAML 1.1:
``yes`` is a boolean, ``<<`` a merge key, the last of two duplicate keys wins).

**Why not ruamel.yaml round-trip mode**, which the design first named: measured on the corpus,
``YAML(typ="rt")`` with ``preserve_quotes`` and an unbounded width dumps only 4 of the 8 corpus
files back byte for byte: it drops the 130-line translatewiki comment header of OSM's ``de.yml``,
joins plain scalars folded over several lines, re-indents some of diaspora's nested mappings
and removes minimal-mistakes' ``key   : value`` alignment (up to 1,582 differing lines in one
file). It also refuses that file's duplicate key unless told otherwise, and needs 0.6-0.8 s to
load OSM's 170 kB ``de.yml`` against 0.04 s for libyaml. Since the writer has to splice the original text
anyway, ruamel's comment-preserving tree would be built and thrown away.

**Writing is hand-written: splicing the original text.** ``render`` never re-dumps a document.
It replaces the span of each changed scalar with a new scalar in the same style where the value
allows it (plain, single- or double-quoted, literal or folded block; an anchor or tag in front
of it stays), deletes the lines of removed keys, and inserts new keys as block lines at the
indentation of their siblings, after the nearest preceding sibling in source order (before the
next one, or at the end of the mapping). Everything else (comments, blank lines, key
alignment, quoting of untouched values, anchors, aliases, merge keys, line endings, BOM, final
newline) is kept byte for byte. The result is parsed again; should it not hold exactly the
requested entries (a case the splicer does not handle, such as a deleted mapping that a merge
key elsewhere still names, or a ``? explicit`` key to remove), the document is emitted afresh
from the values, correct but without comments.

Structure and keys:

- Keys are ``/``-joined mapping keys (``daemon.keypaths``), sequence items use their index.
  A key segment is the key's scalar text as written (``no`` stays ``"no"``, not ``false``).
- Only strings, integers, floats, booleans and nulls are entries. Other scalars (timestamps,
  ``!!binary``, custom tags), merge keys (``<<: *defaults``, skipped exactly like ruamel's
  ``non_merged_items()``: merged keys belong to the anchor they come from and are never copied)
  and aliases of whole mappings or sequences are kept as they are but are not entries. An alias
  of a scalar is an entry; writing a different value to it replaces the alias by a scalar.
- Of two equal keys in one mapping the last wins, as in Psych; removing the key removes both.
- Plurals need no special form: CLDR maps (``one:``/``other:``) are ordinary nested keys.
- Existing keys never move, even where the target's order differs from the source's; a new
  key goes after its nearest preceding sibling in source order that the file has.
- Changes inside a flow collection (``{a: 1}``, ``[x, y]``) or a block sequence that add or
  remove entries re-render that collection as a whole, in its own flow or block style.

The engine is split by job: ``daemon.formats._yaml_read`` builds the node tree with positions,
``daemon.formats._yaml_splice`` edits the text, ``daemon.formats._yaml_write`` writes new scalars
and collections; this module ties them together (and lets Rails choose the root).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import ClassVar

from daemon.errors import FormatError
from daemon.formats._entries import key_order, same_entries
from daemon.formats._text import UTF8_BOM, ParseFailure, decode_utf8, line_column
from daemon.formats._yaml_read import MapNode, Node, Pair, Path, YamlLayout, leaf_value, make_layout, read_document
from daemon.formats._yaml_splice import Splicer, Unsupported
from daemon.formats._yaml_write import Emitter, build_tree
from daemon.formats.base import Format, Leaf, ParsedFile


class PlainYamlFormat(Format):
    """YAML whose top-level mapping holds the keys (Hugo i18n). The engine of ``RailsYamlFormat``."""

    name: ClassVar[str] = "yaml"
    extensions: ClassVar[tuple[str, ...]] = (".yml", ".yaml")

    # hooks for the Rails format

    def select_root(self, top: Node | None, locale: str | None) -> tuple[str | None, Pair | None, MapNode | None]:
        """The locale key and its pair (formats that have one) and the mapping holding the entries.

        Raises ``ParseFailure`` when the document cannot hold translations (a list, a scalar).
        """
        if top is None:
            return None, None, None
        if not isinstance(top, MapNode):
            raise ParseFailure(top.start, "the top level must be a mapping")
        return None, None, top

    def root_name(
        self, layout: YamlLayout, source: YamlLayout | None, locale: str | None, new_file: bool
    ) -> str | None:
        """The locale key to write (Rails only): the new name of a new target's root, or the
        name of the root to create in a file that has none; None to leave the root as it is."""
        return None

    # Format

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        text, bom = decode_utf8(data, path)
        try:
            layout = self.load(text, bom, locale)
        except ParseFailure as e:
            line, column = line_column(text, e.pos)
            raise FormatError(path, line, column, e.detail) from None
        return ParsedFile(entries={k: leaf_value(n) for k, n in layout.leaves.items()}, raw=data, layout=layout)

    def load(self, text: str, bom: bool, locale: str | None) -> YamlLayout:
        """Parse ``text`` into a layout; raises only ``ParseFailure``."""
        top = read_document(text)
        root_key, root_pair, root = self.select_root(top, locale)
        return make_layout(text, bom, top, root_key, root_pair, root)

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
        layout_file = target if target is not None else source
        layout = layout_file.layout if isinstance(layout_file.layout, YamlLayout) else self.load("", False, locale)
        kinds = dict(layout.kinds)
        if isinstance(source.layout, YamlLayout):
            kinds = {**source.layout.kinds, **kinds}
        order = key_order(values, source, target)
        source_layout = source.layout if isinstance(source.layout, YamlLayout) else None
        root_name = self.root_name(layout, source_layout, locale, new_file=target is None)
        text = None
        with contextlib.suppress(Unsupported):
            text = Splicer(layout, values, order, kinds, root_name).run()
        expected_root = root_name or layout.root_key
        if text is None or not self.holds(text, values, expected_root):
            text = self.emit(layout, values, order, kinds, expected_root)
            if not self.holds(text, values, expected_root):
                raise ValueError("these values cannot be written as YAML")
        out = text.encode("utf-8")
        return UTF8_BOM + out if layout.bom else out

    def holds(self, text: str, values: Mapping[str, Leaf], root_name: str | None) -> bool:
        """Whether ``text`` parses (with root ``root_name``) to exactly ``values``."""
        try:
            layout = self.load(text, False, root_name)
        except ParseFailure:
            return False
        return same_entries({k: leaf_value(n) for k, n in layout.leaves.items()}, values)

    def emit(
        self,
        layout: YamlLayout,
        values: Mapping[str, Leaf],
        order: list[str],
        kinds: Mapping[Path, str],
        root_name: str | None,
    ) -> str:
        """The whole document written afresh (the fallback when splicing cannot do it)."""
        out = Emitter(layout.unit, layout.style, layout.quote, layout.literal)
        tree = build_tree(order, values, (), kinds)
        if root_name is not None:
            lines = [out.key(root_name) + ":" + ("" if tree else " {}"), *out.block_map(tree, layout.unit)]
        else:
            lines = out.block_map(tree, 0) if tree else ["{}"]
        return "\n".join(lines).replace("\n", layout.newline) + layout.newline
