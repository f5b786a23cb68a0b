"""The YAML formats' writer: edits the original text so that it holds exactly the new values.

See ``plain_yaml``'s docstring for what is kept and how new keys are placed. ``Splicer`` raises
``Unsupported`` for layouts it does not edit in place; ``PlainYamlFormat.render`` then emits
the document afresh.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from daemon import keypaths
from daemon.formats._entries import same_leaf
from daemon.formats._splice import OverlappingEdits, apply_ranked
from daemon.formats._yaml_read import (
    AliasNode,
    MapNode,
    Node,
    Opaque,
    Pair,
    Path,
    ScalarNode,
    SeqNode,
    YamlLayout,
    leaf_value,
)
from daemon.formats._yaml_write import Emitter, Tree, TreeValue, build_tree
from daemon.formats.base import Leaf


class Unsupported(Exception):
    """Internal: the splicer met a layout it does not edit in place; the document is re-emitted."""


@dataclass
class _Group:
    """New keys that go into one place: below ``container`` as child ``child``, or into ``pair``."""

    container: MapNode | None
    pair: Pair | None
    child: str
    keys: list[str]
    first: int
    depth: int


def _block_suffix(old: str, *, keep: bool) -> str:
    """What follows a block scalar's last content line inside its span: layout to keep.

    That is the line break ending the content and any blank lines after it; with keep chomping
    (``|+``) the blank lines were content, so only the line break stays.
    """
    end = old.find("\n", len(old.rstrip(" \t\r\n")))
    if end < 0:
        return ""
    if end > 0 and old[end - 1] == "\r":
        end -= 1
    suffix = old[end:]
    return suffix[: 2 if suffix.startswith("\r") else 1] if keep else suffix


class Splicer:
    """Turns ``layout.text`` into a document holding exactly ``values`` by editing it in place."""

    def __init__(
        self,
        layout: YamlLayout,
        values: Mapping[str, Leaf],
        order: list[str],
        kinds: Mapping[Path, str],
        root_name: str | None,
    ) -> None:
        self.lay = layout
        self.text = layout.text
        self.values = values
        self.order = order
        self.kinds = kinds
        self.root_name = root_name
        self.segs = {key: tuple(keypaths.split(key)) for key in values}
        self.inner = {s[:n] for s in self.segs.values() for n in range(1, len(s))}
        """Paths that have values below them."""
        self.edits: list[tuple[int, int, tuple[int, int], str]] = []
        self.deleted: set[int] = set()
        self.rerendered: list[Path] = []
        self.out = Emitter(layout.unit, layout.style, layout.quote, layout.literal)
        self._children: dict[Path, list[str]] | None = None

    # positions

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def clean_line_start(self, pos: int) -> int:
        start = self.line_start(pos)
        if self.text[start:pos].strip(" \t"):
            raise Unsupported("the node does not start its line")
        return start

    def line_end(self, pos: int) -> int:
        """Offset just after the line break of the line holding ``pos`` (``pos`` if at a line start)."""
        if pos > 0 and self.text[pos - 1] == "\n":
            return pos
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end + 1

    def content_end(self, node: Node) -> int:
        if isinstance(node, ScalarNode):
            if node.style in "|>" and node.style:
                header = self.text[node.value_start : self.text.find("\n", node.value_start)]
                if "+" not in header:
                    return node.start + len(self.text[node.start : node.end].rstrip(" \t\r\n"))
            return node.end
        if isinstance(node, AliasNode) or node.flow:
            return node.end
        children = list(node.pairs.values()) if isinstance(node, MapNode) else node.items
        if not children:
            return node.end
        return max(self.pair_end(c) if isinstance(c, Pair) else self.content_end(c) for c in children)

    def pair_end(self, pair: Pair) -> int:
        return max(pair.key_end, self.content_end(pair.value))

    def edit(self, start: int, end: int, text: str, rank: tuple[int, int] = (0, 0)) -> None:
        self.edits.append((start, end, rank, text.replace("\n", self.lay.newline)))

    # the walk over existing nodes

    def run(self) -> str:
        root = self.lay.root
        if root is not None:
            if root.flow and self.structural(root, ()):
                if root.pairs:
                    self.rerender(root, ())
            else:
                self.visit_map(root, ())
        if self.root_name is not None and self.lay.root_pair is not None:
            pair = self.lay.root_pair
            self.edit(pair.key_start, pair.key_end, self.out.key(self.root_name))
        self.insert_new()
        return self.apply()

    def keys_under(self, keys: Iterator[str] | list[str], path: Path) -> set[str]:
        prefix = keypaths.join(list(path)) + "/" if path else ""
        return {k for k in keys if k.startswith(prefix)}

    def structural(self, node: MapNode | SeqNode, path: Path) -> bool:
        """Whether the set of entry keys below ``node`` changes (values changes do not count)."""
        return self.keys_under(list(self.lay.leaves), path) != self.keys_under(list(self.values), path)

    def visit_map(self, node: MapNode, path: Path) -> None:
        for segment, pair in node.pairs.items():
            self.visit_pair(pair, (*path, segment))

    def visit_pair(self, pair: Pair, path: Path) -> None:
        """Update, delete or descend into one existing pair, as ``values`` says."""
        value = pair.value
        as_leaf = keypaths.join(list(path)) in self.values
        below = path in self.inner
        if isinstance(value, MapNode | SeqNode):
            self.visit_collection(pair, value, path, as_leaf, below)
        elif self.is_entry(value):
            if as_leaf:
                self.update(value, keypaths.join(list(path)))
            else:
                self.delete(pair)
        elif as_leaf or (below and not (isinstance(value, AliasNode) and isinstance(value.target, MapNode))):
            self.delete(pair)  # an opaque value where a value or new keys must go

    def visit_collection(self, pair: Pair, value: MapNode | SeqNode, path: Path, as_leaf: bool, below: bool) -> None:
        """A pair holding a mapping or sequence: keep, delete, descend or write it again."""
        if as_leaf:
            self.delete(pair)  # it becomes a single value, inserted at its place
        elif not below:
            if value.entries and (value.opaque == 0 or value.flow or isinstance(value, SeqNode)):
                self.delete(pair)
            elif value.entries and isinstance(value, MapNode):
                self.visit_map(value, path)  # drop its entries, keep what is opaque
        elif isinstance(value, MapNode) and not value.flow:
            self.visit_map(value, path)
        elif not self.structural(value, path):
            self.visit_children(value, path)
        elif value.pairs if isinstance(value, MapNode) else value.items:
            self.rerender(value, path)
        elif isinstance(value, SeqNode):
            self.delete(pair)  # an empty ``[]`` that receives keys is written again as new keys
        # an empty ``{}`` that receives keys is converted by ``insert_new``

    def visit_children(self, node: MapNode | SeqNode, path: Path) -> None:
        """Update values below a collection whose set of keys does not change."""
        if isinstance(node, MapNode):
            children: list[tuple[str, Node]] = [(s, p.value) for s, p in node.pairs.items()]
        else:
            children = [(str(i), item) for i, item in enumerate(node.items)]
        for segment, child in children:
            child_path = (*path, segment)
            if isinstance(child, MapNode | SeqNode):
                self.visit_children(child, child_path)
            elif self.is_entry(child):
                self.update(child, keypaths.join(list(child_path)))

    @staticmethod
    def is_entry(node: Node) -> bool:
        target = node.target if isinstance(node, AliasNode) else node
        return isinstance(target, ScalarNode) and not isinstance(target.leaf, Opaque)

    def update(self, node: ScalarNode | AliasNode, key: str) -> None:
        """Write the wanted value of ``key`` if it differs from what the file will say.

        An alias says what its anchor will say after this render; when that is not the wanted
        value, the alias is replaced by a scalar of its own.
        """
        wanted = self.values[key]
        current = leaf_value(node)
        if isinstance(node, AliasNode):
            target = node.target
            anchor_key = target.key if isinstance(target, ScalarNode) else None
            if anchor_key is not None and anchor_key in self.values:
                current = self.values[anchor_key]
            if (anchor_key is not None and anchor_key not in self.values) or not same_leaf(wanted, current):
                # the anchor goes away or will say something else: the alias gets its own scalar
                text = self.out.scalar(wanted, flow=node.flow, indent=node.owner_column + self.lay.unit)
                self.edit(node.start, node.end, text)
        elif not same_leaf(wanted, current):
            self.replace_scalar(node, wanted)

    def replace_scalar(self, node: ScalarNode, value: Leaf) -> None:
        """Write ``value`` over the scalar's span, keeping its style where the value allows it."""
        old = self.text[node.value_start : node.end]
        if value is None and old == "":
            return
        indent = node.owner_column + self.lay.unit
        suffix = ""
        if node.style in ("|", ">"):
            header, _, body = old.partition("\n")
            first = next((line for line in body.split("\n") if line.strip()), "")
            if first and not any(ch.isdigit() for ch in header.split("#")[0]):
                indent = max(len(first) - len(first.lstrip(" ")), node.owner_column + 1)
            suffix = _block_suffix(old, keep="+" in header.split("#")[0])
        text = self.out.scalar(value, flow=node.flow, indent=indent, style=node.style)
        if node.style in ("|", ">") and text[:1] in ("|", ">") and not suffix:
            text += "\n"  # the old block's span held its line break; the new block needs one too
        if old == "" and self.text[node.value_start - 1 : node.value_start] == ":":
            text = " " + text  # an empty value right after its colon (``key:``)
        self.edit(node.value_start, node.end, text)
        self.edits[-1] = (*self.edits[-1][:3], self.edits[-1][3] + suffix)

    def delete(self, pair: Pair) -> None:
        self.deleted.add(id(pair))
        for occurrence in (*pair.dups, pair):
            start = self.clean_line_start(occurrence.key_start)
            self.edit(start, self.line_end(self.pair_end(occurrence)), "", (1, 0))

    def rerender(self, node: MapNode | SeqNode, path: Path) -> None:
        """Write a flow collection or block sequence again from the values below it."""
        self.rerendered.append(path)
        keys = [k for k in self.order if self.segs[k][: len(path)] == path and len(self.segs[k]) > len(path)]
        tree = build_tree(keys, self.values, path, self.kinds)
        value: TreeValue = tree
        if isinstance(node, SeqNode) and list(tree) == [str(i) for i in range(len(tree))]:
            value = [tree[str(i)] for i in range(len(tree))]
        if node.flow:
            self.edit(node.value_start, node.end, self.out.flow(value))
            return
        start = self.clean_line_start(node.value_start)
        end = self.line_end(self.content_end(node))
        if isinstance(value, list):
            lines = self.out.block_seq(value, node.column)
        else:
            lines = self.out.block_map(tree, max(node.column, node.owner_column + self.lay.unit))
        self.edit(start, end, "\n".join(lines) + ("\n" if self.text[end - 1 : end] == "\n" else ""))

    # new keys

    def insert_new(self) -> None:
        groups: dict[tuple[int, str], _Group] = {}
        for index, key in enumerate(self.order):
            if key in self.lay.leaves:
                continue
            segments = self.segs[key]
            if any(segments[: len(p)] == p for p in self.rerendered):
                continue
            container, pair, depth = self.locate(segments)
            child = segments[depth] if pair is None else ""
            ident = (id(pair) if pair is not None else id(container), child)
            group = groups.get(ident)
            if group is None:
                group = groups[ident] = _Group(container, pair, child, [], index, depth)
            group.keys.append(key)
        for group in groups.values():
            self.place(group)

    def locate(self, segments: Path) -> tuple[MapNode | None, Pair | None, int]:
        """Where a new key goes: (block mapping, None, depth) or (None, pair to convert, depth)."""
        node = self.lay.root
        if node is None or (node.flow and not node.pairs):
            return None, self.lay.root_pair, 0
        depth = 0
        while depth < len(segments) - 1:
            pair = node.pairs.get(segments[depth])
            if pair is None or id(pair) in self.deleted:
                break
            value = pair.value
            if isinstance(value, MapNode) and not value.flow:
                node = value
                depth += 1
                continue
            if (isinstance(value, MapNode) and value.flow and not value.pairs) or (
                isinstance(value, AliasNode) and isinstance(value.target, MapNode)
            ):
                return None, pair, depth + 1
            break
        return node, None, depth

    def child_order(self) -> dict[Path, list[str]]:
        """For every path, its child segments in the order of ``self.order`` (built once)."""
        if self._children is None:
            children: dict[Path, dict[str, None]] = collections.defaultdict(dict)
            for key in self.order:
                segments = self.segs[key]
                for depth in range(len(segments)):
                    children[segments[:depth]].setdefault(segments[depth], None)
            self._children = {path: list(names) for path, names in children.items()}
        return self._children

    def place(self, group: _Group) -> None:
        base = self.segs[group.keys[0]][: group.depth]
        tree = build_tree(group.keys, self.values, base, self.kinds)
        rank = (-group.depth, group.first)
        if group.container is not None:
            container = group.container
            lines = self.out.block_map(tree, container.column)
            self.insert_lines(self.anchor(container, base, group.child), lines, rank)
        elif group.pair is not None:
            self.convert(group.pair, tree, rank)
        else:
            self.create_root(tree, rank)

    def anchor(self, container: MapNode, base: Path, child: str) -> int:
        """Insertion offset for new child ``child`` of ``container`` (at ``base``), by source order."""
        existing = container.pairs.get(child)
        if existing is not None:  # replaces a leaf or opaque value that is being deleted
            return self.clean_line_start(min(p.key_start for p in (*existing.dups, existing)))
        names = self.child_order()[base]
        position = names.index(child)
        for name in reversed(names[:position]):
            if name in container.pairs:
                return self.line_end(self.pair_end(container.pairs[name]))
        for name in names[position + 1 :]:
            if name in container.pairs:
                return self.before(container, container.pairs[name])
        if not container.pairs:  # only merge keys so far
            return self.line_end(container.extra_end)
        last = max(container.pairs.values(), key=lambda p: p.key_start)
        return self.line_end(self.pair_end(last))

    def before(self, container: MapNode, pair: Pair) -> int:
        """Line start of ``pair``, moved up over the comment lines right above it."""
        pos = self.clean_line_start(min(p.key_start for p in (*pair.dups, pair)))
        while pos > 0:
            previous = self.line_start(pos - 1)
            line = self.text[previous:pos].rstrip("\r\n")
            stripped = line.lstrip(" ")
            if not stripped.startswith("#") or len(line) - len(stripped) != container.column:
                break
            pos = previous
        return pos

    def insert_lines(self, pos: int, lines: list[str], rank: tuple[int, int]) -> None:
        text = "\n".join(lines)
        if pos == len(self.text) and not self.text.endswith("\n"):
            text = "\n" + text if self.text else text
        else:
            text += "\n"
        self.edit(pos, pos, text, rank)

    def convert(self, pair: Pair, tree: Tree, rank: tuple[int, int]) -> None:
        """Give ``pair`` (a null, ``{}`` or an alias of a mapping) a block mapping holding ``tree``."""
        column = pair.key_column + self.lay.unit
        lines = self.out.block_map(tree, column)
        value = pair.value
        end = value.end
        if isinstance(value, AliasNode):
            lines.insert(0, " " * column + "<<: " + self.text[value.start : value.end])
        elif isinstance(value, ScalarNode) and value.value == "" and value.style == "":
            end = value.start
        self.edit(pair.key_end, end, ":\n" + "\n".join(lines), rank)

    def create_root(self, tree: Tree, rank: tuple[int, int]) -> None:
        """A document without a root mapping: replace an empty top ``{}`` or append one."""
        top = self.lay.top
        if self.root_name is None and isinstance(top, MapNode) and top.flow:
            self.edit(top.value_start, top.end, "\n".join(self.out.block_map(tree, 0)), rank)
            return
        if self.root_name is not None:
            lines = [self.out.key(self.root_name) + ":", *self.out.block_map(tree, self.lay.unit)]
        else:
            lines = self.out.block_map(tree, 0)
        if self.text and not self.text.endswith("\n"):
            self.edit(len(self.text), len(self.text), "\n" + "\n".join(lines), rank)
        else:
            self.edit(len(self.text), len(self.text), "\n".join(lines) + "\n", rank)

    def apply(self) -> str:
        try:
            return apply_ranked(self.text, self.edits)
        except OverlappingEdits:
            raise Unsupported("overlapping edits") from None
