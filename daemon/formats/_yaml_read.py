"""Reading YAML for the YAML formats: libyaml's events turned into a node tree with positions.

Every node keeps the character offsets the splicing writer (``daemon.formats._yaml_splice``)
needs to edit the original text: where a scalar starts and ends, with and without its anchor
and tag, its style and the column of the key that owns it, where each mapping pair's key is,
and which earlier pairs a duplicate key shadows. ``plain_yaml``'s docstring says why libyaml's
event stream is read instead of a round-trip loader.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import yaml
import yaml.constructor
import yaml.error
import yaml.events
import yaml.nodes
import yaml.reader
import yaml.resolver

from daemon import keypaths
from daemon.formats._text import ParseFailure, newline_of
from daemon.formats.base import Leaf

Path = tuple[str, ...]

MAX_DEPTH = 200
"""Deepest nesting accepted; keeps the recursive walk far from Python's recursion limit."""

_C_LOADER = hasattr(yaml, "CSafeLoader")
_Loader = yaml.CSafeLoader if _C_LOADER else yaml.SafeLoader
STR_TAG = "tag:yaml.org,2002:str"
_STRING_TAGS = frozenset((STR_TAG, "tag:yaml.org,2002:value", "tag:yaml.org,2002:merge"))
"""A plain ``=`` or ``<<`` as a value is text to Psych (the 1.1 tags only mean something in keys)."""
_RESOLVER = yaml.resolver.Resolver()
_FIRST_CHARS = frozenset(k for k in _RESOLVER.yaml_implicit_resolvers if k is not None)
"""First characters of plain scalars that may resolve to something other than a string."""
_ANY_FIRST_CHAR = None in _RESOLVER.yaml_implicit_resolvers
_resolve = cast("Callable[[type[yaml.nodes.Node], str, tuple[bool, bool]], str]", _RESOLVER.resolve)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class Opaque:
    """A scalar that is kept in the file but is no entry (timestamp, binary, custom tag)."""


OPAQUE = Opaque()


@dataclass(eq=False)
class ScalarNode:
    """A scalar: ``start``/``end`` span it with its anchor and tag, ``value_start`` skips them."""

    start: int
    end: int
    value_start: int
    style: str
    value: str
    leaf: Leaf | Opaque
    owner_column: int
    flow: bool
    key: str | None = None
    """The flat key this scalar is the value of, once ``_flatten`` reached it."""


@dataclass(eq=False)
class AliasNode:
    start: int
    end: int
    target: Node
    owner_column: int
    flow: bool


@dataclass(eq=False)
class Pair:
    key_start: int
    key_end: int
    key_column: int
    value: Node
    dups: list[Pair] = field(default_factory=list)
    """Earlier pairs with the same key in the same mapping (dead, but removed with this one)."""


@dataclass(eq=False)
class MapNode:
    start: int
    end: int
    flow: bool
    column: int
    owner_column: int
    value_start: int
    pairs: dict[str, Pair] = field(default_factory=dict)
    extra: int = 0
    """Merge keys and complex keys: kept, never entries."""
    extra_end: int = 0
    """Where the last of those ends (new keys go after it in a mapping that has only them)."""
    entries: int = 0
    opaque: int = 0


@dataclass(eq=False)
class SeqNode:
    start: int
    end: int
    flow: bool
    column: int
    owner_column: int
    value_start: int
    items: list[Node] = field(default_factory=list)
    entries: int = 0
    opaque: int = 0


Node = ScalarNode | AliasNode | MapNode | SeqNode


@dataclass(frozen=True)
class YamlLayout:
    """What ``render`` needs besides the entries: the text and where every value sits in it."""

    text: str
    bom: bool
    top: Node | None
    root_key: str | None
    """The locale key of a Rails file (``en``); None for plain YAML or when there is none."""
    root_pair: Pair | None
    root: MapNode | None
    """The mapping whose keys are the entry keys; None when there is none yet."""
    leaves: dict[str, ScalarNode | AliasNode]
    kinds: dict[Path, str]
    newline: str
    unit: int
    style: str
    quote: str
    literal: bool


# --- parsing -------------------------------------------------------------------------------


def _offset(mark: yaml.error.Mark | object | None) -> int:
    index = getattr(mark, "index", 0)
    return index if isinstance(index, int) else 0


def _column(mark: yaml.error.Mark | object | None) -> int:
    column = getattr(mark, "column", 0)
    return column if isinstance(column, int) else 0


def _skip_properties(text: str, pos: int, end: int) -> int:
    """Offset of a node's content after its ``&anchor`` and ``!tag`` properties."""
    while pos < end and text[pos] in "&!":
        while pos < end and text[pos] not in " \t\r\n":
            pos += 1
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
    return pos


def _typed(event: yaml.events.ScalarEvent) -> Leaf | Opaque:
    """The scalar's value as Psych/PyYAML would type it; other types are opaque."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = implicit_tag(event.value) if event.implicit[0] else STR_TAG
    if tag in _STRING_TAGS:
        return event.value
    node = yaml.nodes.ScalarNode(tag, event.value)
    try:
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return bool(_CONSTRUCTOR.construct_yaml_bool(node))
        if tag == "tag:yaml.org,2002:int":
            return int(_CONSTRUCTOR.construct_yaml_int(node))
        if tag == "tag:yaml.org,2002:float":
            return float(_CONSTRUCTOR.construct_yaml_float(node))
    except (ValueError, KeyError, OverflowError):
        pass
    return OPAQUE


class _Builder:
    """Builds the node tree from libyaml's events, keeping every position the splicer needs."""

    def __init__(self, text: str, loader: yaml.SafeLoader | yaml.CSafeLoader) -> None:
        self.text = text
        self.loader = loader
        self.anchors: dict[str, Node] = {}

    def next(self) -> yaml.events.Event:
        event = self.loader.get_event()
        if event is None:  # pragma: no cover - the parser always closes what it opened
            raise ParseFailure(len(self.text), "unexpected end of the YAML stream")
        return event

    def document(self) -> Node | None:
        self.next()  # StreamStart
        event = self.next()
        if isinstance(event, yaml.events.StreamEndEvent):
            return None
        top = self.node(self.next(), depth=0, owner_column=-1, flow=False)
        self.next()  # DocumentEnd
        event = self.next()
        if not isinstance(event, yaml.events.StreamEndEvent):
            raise ParseFailure(_offset(event.start_mark), "a translation file holds a single YAML document")
        return top

    def node(self, event: yaml.events.Event, *, depth: int, owner_column: int, flow: bool) -> Node:
        start, end = _offset(event.start_mark), _offset(event.end_mark)
        if depth > MAX_DEPTH:
            raise ParseFailure(start, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(event, yaml.events.AliasEvent):
            target = self.anchors.get(event.anchor or "")
            if target is None:
                raise ParseFailure(start, f"found undefined alias {event.anchor!r}")
            return AliasNode(start, end, target, owner_column, flow)
        node: Node
        if isinstance(event, yaml.events.ScalarEvent):
            value_start = _skip_properties(self.text, start, end)
            node = ScalarNode(
                start, end, value_start, event.style or "", event.value, _typed(event), owner_column, flow
            )
        elif isinstance(event, yaml.events.MappingStartEvent):
            node = self.mapping(event, depth, owner_column, flow or bool(event.flow_style))
        elif isinstance(event, yaml.events.SequenceStartEvent):
            node = self.sequence(event, depth, owner_column, flow or bool(event.flow_style))
        else:  # pragma: no cover - the parser only yields node events here
            raise ParseFailure(start, "unexpected YAML event")
        if getattr(event, "anchor", None):
            self.anchors[str(getattr(event, "anchor", ""))] = node
        return node

    def mapping(self, event: yaml.events.MappingStartEvent, depth: int, owner_column: int, flow: bool) -> MapNode:
        start = _offset(event.start_mark)
        value_start = _skip_properties(self.text, start, len(self.text))
        node = MapNode(start, start, flow, -1, owner_column, value_start)
        if event.anchor:
            self.anchors[event.anchor] = node  # a value inside may already name it
        while True:
            key_event = self.next()
            if isinstance(key_event, yaml.events.MappingEndEvent):
                node.end = _offset(key_event.end_mark)
                return node
            column = _column(key_event.start_mark)
            if node.column < 0:
                node.column = column
            key = self.node(key_event, depth=depth + 1, owner_column=node.column, flow=flow)
            value = self.node(self.next(), depth=depth + 1, owner_column=column, flow=flow)
            self.add_pair(node, key, value, column)

    @staticmethod
    def add_pair(node: MapNode, key: Node, value: Node, column: int) -> None:
        scalar = key.target if isinstance(key, AliasNode) else key
        if not isinstance(scalar, ScalarNode) or _is_merge_key(scalar):
            # a complex key, or a merge key: its keys belong to the anchor they come from
            node.extra += 1
            node.extra_end = max(node.extra_end, value.end)
            return
        pair = Pair(key.start, key.end, column, value)
        previous = node.pairs.get(scalar.value)
        if previous is not None:
            pair.dups = [*previous.dups, previous]
        node.pairs[scalar.value] = pair

    def sequence(self, event: yaml.events.SequenceStartEvent, depth: int, owner_column: int, flow: bool) -> SeqNode:
        start = _offset(event.start_mark)
        value_start = _skip_properties(self.text, start, len(self.text))
        node = SeqNode(start, start, flow, -1, owner_column, value_start)
        if event.anchor:
            self.anchors[event.anchor] = node
        while True:
            item_event = self.next()
            if isinstance(item_event, yaml.events.SequenceEndEvent):
                node.end = _offset(item_event.end_mark)
                return node
            if node.column < 0:
                node.column = _dash_column(self.text, _offset(item_event.start_mark), flow)
            node.items.append(self.node(item_event, depth=depth + 1, owner_column=node.column, flow=flow))


def _is_merge_key(key: ScalarNode) -> bool:
    return key.style == "" and key.value == "<<"  # the whole of YAML 1.1's merge pattern


def _dash_column(text: str, item_start: int, flow: bool) -> int:
    """Column of the ``-`` in front of a block sequence's first item (the item's own if flow)."""
    pos = item_start
    while pos > 0 and text[pos - 1] in " \t":
        pos -= 1
    if not flow and pos > 0 and text[pos - 1] == "-":
        pos -= 1
    return pos - (text.rfind("\n", 0, pos) + 1)


def _flatten(
    node: Node, path: Path, leaves: dict[str, ScalarNode | AliasNode], kinds: dict[Path, str]
) -> tuple[int, int]:
    """Collect the entries below ``node``; return (entries, opaque things) and store them on collections."""
    if isinstance(node, ScalarNode):
        if isinstance(node.leaf, Opaque):
            return 0, 1
        node.key = keypaths.join(path)
        leaves[node.key] = node
        return 1, 0
    if isinstance(node, AliasNode):
        target = node.target
        if isinstance(target, ScalarNode) and not isinstance(target.leaf, Opaque):
            leaves[keypaths.join(path)] = node
            return 1, 0
        return 0, 1
    entries, opaque = 0, 0
    if isinstance(node, MapNode):
        kinds[path] = "map"
        opaque = node.extra
        children: list[tuple[str, Node]] = [(seg, pair.value) for seg, pair in node.pairs.items()]
    else:
        kinds[path] = "seq"
        children = [(str(i), item) for i, item in enumerate(node.items)]
    for seg, child in children:
        e, o = _flatten(child, (*path, seg), leaves, kinds)
        entries += e
        opaque += o
    node.entries, node.opaque = entries, opaque
    return entries, opaque


def leaf_value(node: ScalarNode | AliasNode) -> Leaf:
    target = node.target if isinstance(node, AliasNode) else node
    assert isinstance(target, ScalarNode) and not isinstance(target.leaf, Opaque)
    return target.leaf


def read_document(text: str) -> Node | None:
    """The node tree of the single YAML document in ``text`` (None for an empty stream).

    Raises only ``ParseFailure``, at the position libyaml reports.
    """
    loader = _Loader(text)
    try:
        return _Builder(text, loader).document()
    except yaml.YAMLError as e:
        raise ParseFailure(_error_position(text, e), _error_detail(e)) from None
    except RecursionError:  # defensive: MAX_DEPTH should always trigger first
        raise ParseFailure(0, "nesting too deep") from None
    finally:
        loader.dispose()


def make_layout(
    text: str, bom: bool, top: Node | None, root_key: str | None, root_pair: Pair | None, root: MapNode | None
) -> YamlLayout:
    """The layout of a read document whose entries are the leaves below ``root``."""
    leaves: dict[str, ScalarNode | AliasNode] = {}
    kinds: dict[Path, str] = {}
    if root is not None:
        _flatten(root, (), leaves, kinds)
    style, quote, literal = _style_stats(leaves)
    return YamlLayout(
        text=text,
        bom=bom,
        top=top,
        root_key=root_key,
        root_pair=root_pair,
        root=root,
        leaves=leaves,
        kinds=kinds,
        newline=newline_of(text),
        unit=_indent_unit(top),
        style=style,
        quote=quote,
        literal=literal,
    )


def _error_position(text: str, error: yaml.YAMLError) -> int:
    if isinstance(error, yaml.error.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            return _offset(mark)
    if isinstance(error, yaml.reader.ReaderError):
        position = int(error.position)
        if _C_LOADER:  # libyaml counts bytes of the UTF-8 it was given
            position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        return position
    return 0


def _error_detail(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.error.MarkedYAMLError):
        parts = [p for p in (error.context, error.problem) if p]
        return "; ".join(parts) or "invalid YAML"
    if isinstance(error, yaml.reader.ReaderError):
        return (
            f"unacceptable character #x{error.character:04x}: {error.reason}"
            if isinstance(error.character, int)
            else str(error.reason)
        )
    return str(error) or "invalid YAML"


def _style_stats(leaves: Mapping[str, ScalarNode | AliasNode]) -> tuple[str, str, bool]:
    """The most used style for string values, the most used quote, and whether block scalars occur."""
    counts: collections.Counter[str] = collections.Counter()
    for node in leaves.values():
        if isinstance(node, ScalarNode) and isinstance(node.leaf, str):
            counts[node.style] += 1
    style = max(("", "'", '"'), key=lambda s: counts[s])
    quote = "'" if counts["'"] > counts['"'] else '"'
    return style, quote, bool(counts["|"] or counts[">"])


def _indent_unit(node: Node | None) -> int:
    """The most common step between a block mapping's keys and its parent key (default 2)."""
    steps: collections.Counter[int] = collections.Counter()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, MapNode):
            for pair in current.pairs.values():
                child = pair.value
                if isinstance(child, MapNode | SeqNode) and not child.flow and child.column > pair.key_column:
                    steps[child.column - pair.key_column] += 1
                stack.append(child)
        elif isinstance(current, SeqNode):
            stack.extend(current.items)
    return steps.most_common(1)[0][0] if steps else 2


def implicit_tag(text: str) -> str:
    """The tag a plain scalar resolves to (YAML 1.1 rules, as PyYAML and Psych apply them)."""
    if text and not _ANY_FIRST_CHAR and text[0] not in _FIRST_CHARS:
        return STR_TAG  # the common case, without the regular expressions
    return _resolve(yaml.nodes.ScalarNode, text, (True, False))
