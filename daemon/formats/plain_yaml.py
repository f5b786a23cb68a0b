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
"""

from __future__ import annotations

import collections
import contextlib
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, cast

import yaml
import yaml.constructor
import yaml.emitter
import yaml.error
import yaml.events
import yaml.nodes
import yaml.reader
import yaml.resolver

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats.base import Format, Leaf, ParsedFile

Path = tuple[str, ...]

MAX_DEPTH = 200
"""Deepest nesting accepted; keeps the recursive walk far from Python's recursion limit."""

_C_LOADER = hasattr(yaml, "CSafeLoader")
_Loader = yaml.CSafeLoader if _C_LOADER else yaml.SafeLoader
_BOM = b"\xef\xbb\xbf"
_STR = "tag:yaml.org,2002:str"
_STRING_TAGS = frozenset((_STR, "tag:yaml.org,2002:value", "tag:yaml.org,2002:merge"))
"""A plain ``=`` or ``<<`` as a value is text to Psych (the 1.1 tags only mean something in keys)."""
_RESOLVER = yaml.resolver.Resolver()
_FIRST_CHARS = frozenset(k for k in _RESOLVER.yaml_implicit_resolvers if k is not None)
"""First characters of plain scalars that may resolve to something other than a string."""
_ANY_FIRST_CHAR = None in _RESOLVER.yaml_implicit_resolvers
_resolve = cast("Callable[[type[yaml.nodes.Node], str, tuple[bool, bool]], str]", _RESOLVER.resolve)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_EMITTER = yaml.emitter.Emitter(io.StringIO(), allow_unicode=True)  # only for analyze_scalar
_DOUBLE_ESCAPES = {
    "\0": "\\0",
    "\x07": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    '"': '\\"',
    "\\": "\\\\",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_UNICODE_BREAK = re.compile("[\x85\u2028\u2029]")
_NEEDS_ESCAPE = re.compile('[\x00-\x1f\x7f-\x9f"\\\\\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]')


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
Tree = dict[str, "TreeValue"]
TreeValue = Leaf | Tree | list["TreeValue"]


class ParseFailure(Exception):
    """Internal: a parse error at a character offset, turned into ``FormatError`` by ``parse``."""

    def __init__(self, pos: int, detail: str) -> None:
        super().__init__(detail)
        self.pos = pos
        self.detail = detail


class _Unsupported(Exception):
    """Internal: the splicer met a layout it does not edit in place; the document is re-emitted."""


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
        tag = _implicit_tag(event.value) if event.implicit[0] else _STR
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


def _line_column(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - text.rfind("\n", 0, pos)


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


# --- scalar writing ------------------------------------------------------------------------


def _implicit_tag(text: str) -> str:
    """The tag a plain scalar resolves to (YAML 1.1 rules, as PyYAML and Psych apply them)."""
    if text and not _ANY_FIRST_CHAR and text[0] not in _FIRST_CHARS:
        return _STR  # the common case, without the regular expressions
    return _resolve(yaml.nodes.ScalarNode, text, (True, False))


def _resolves_to_str(text: str) -> bool:
    return _implicit_tag(text) == _STR


def _double(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in _DOUBLE_ESCAPES:
            return _DOUBLE_ESCAPES[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def _literal(text: str, indent: int, folded: bool) -> str:
    """A literal (or, for one line, folded) block scalar; lines joined by ``\\n``, no final newline.

    Callers only pass text that needs neither an indentation indicator (no leading space or
    line break) nor keep chomping (at most one trailing line break).
    """
    body = text[:-1] if text.endswith("\n") else text
    header = (">" if folded else "|") + ("" if text.endswith("\n") else "-")
    pad = " " * indent
    return header + "\n" + "\n".join(pad + line if line else "" for line in body.split("\n"))


def _number(value: int | float | bool | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if e and exponent[:1] not in "+-":
        exponent = "+" + exponent
    return mantissa + (e + exponent if e else "")


def scalar_text(value: Leaf, *, flow: bool, indent: int, style: str, quote: str, literal: bool) -> str:
    """``value`` as a YAML scalar, in ``style`` when the value allows it, else the closest style.

    ``style`` is the preferred style ('' plain, quotes, '|' or '>'), ``quote`` the quote to fall
    back on, ``literal`` whether a multi-line string may become a literal block (``indent`` is
    then its content indentation). Block scalars are never written in flow context.
    """
    if not isinstance(value, str):
        return _number(value)
    if _UNICODE_BREAK.search(value):
        return _double(value)  # YAML 1.1 line breaks other than \n: only escapes keep them
    analysis = _EMITTER.analyze_scalar(value)
    block_ok = not flow and analysis.allow_block and value[:1] not in " \n" and not value.endswith("\n\n")
    if style in "|>" and style and block_ok:
        return _literal(value, indent, folded=style == ">" and "\n" not in value)
    if "\n" in value:
        return _literal(value, indent, folded=False) if literal and block_ok else _double(value)
    plain_ok = (analysis.allow_flow_plain if flow else analysis.allow_block_plain) and _resolves_to_str(value)
    if style == "" and plain_ok:
        return value
    single_ok = analysis.allow_single_quoted
    if (style == "'" or (style in ("", "|", ">") and quote == "'")) and single_ok:
        return "'" + value.replace("'", "''") + "'"
    return _double(value)


def key_text(segment: str, *, flow: bool, quote: str) -> str:
    """A mapping key whose scalar text is ``segment`` (quoted when plain would not read back)."""
    analysis = _EMITTER.analyze_scalar(segment)
    plain_ok = analysis.allow_flow_plain if flow else analysis.allow_block_plain
    if plain_ok and _resolves_to_str(segment) and len(segment) < 1000:
        return segment
    if quote == "'" and analysis.allow_single_quoted and not analysis.multiline:
        return "'" + segment.replace("'", "''") + "'"
    return _double(segment)


# --- the engine ------------------------------------------------------------------------------


def _same_leaf(a: Leaf, b: Leaf) -> bool:
    """Equality that tells ``1`` from ``1.0`` from ``True`` (Python's ``==`` does not)."""
    return type(a) is type(b) and a == b


def _same_entries(a: Mapping[str, Leaf], b: Mapping[str, Leaf]) -> bool:
    return len(a) == len(b) and all(key in b and _same_leaf(value, b[key]) for key, value in a.items())


def _order(values: Mapping[str, Leaf], source: ParsedFile, target: ParsedFile | None) -> list[str]:
    """Source order, then target-only keys, then the rest of ``values`` as given."""
    seen: dict[str, None] = {}
    for parsed in (source, target):
        if parsed is not None:
            seen.update((key, None) for key in parsed.entries if key in values)
    seen.update((key, None) for key in values)
    return list(seen)


def build_tree(keys: list[str], values: Mapping[str, Leaf], base: Path, kinds: Mapping[Path, str]) -> Tree:
    """Nest the flat ``keys`` (all below ``base``) into dicts; sequences where ``kinds`` says so."""
    root: Tree = {}
    for key in keys:
        segments = keypaths.split(key)[len(base) :]
        node = root
        for depth, segment in enumerate(segments[:-1]):
            child = node.setdefault(segment, {})
            if not isinstance(child, dict):
                above = keypaths.join([*base, *segments[: depth + 1]])
                raise ValueError(f"keys {above!r} and {key!r} cannot both exist: one is inside the other")
            node = child
        if segments[-1] in node:
            raise ValueError(f"key {key!r} cannot hold a value: other keys are nested inside it")
        node[segments[-1]] = values[key]
    return _sequences(root, base, kinds)


def _sequences(tree: Tree, path: Path, kinds: Mapping[Path, str]) -> Tree:
    for segment, child in tree.items():
        if isinstance(child, dict):
            inner = _sequences(child, (*path, segment), kinds)
            indexes = [str(i) for i in range(len(inner))]
            if kinds.get((*path, segment)) == "seq" and list(inner) == indexes:
                tree[segment] = [inner[i] for i in indexes]
            else:
                tree[segment] = inner
    return tree


@dataclass
class _Emitter:
    """Writes new block or flow YAML in the file's own style (indent unit, quoting)."""

    unit: int
    style: str
    quote: str
    literal: bool

    def scalar(self, value: Leaf, *, flow: bool, indent: int, style: str | None = None) -> str:
        return scalar_text(
            value,
            flow=flow,
            indent=indent,
            style=self.style if style is None else style,
            quote=self.quote,
            literal=self.literal,
        )

    def key(self, segment: str, *, flow: bool = False) -> str:
        return key_text(segment, flow=flow, quote=self.quote)

    def block_map(self, tree: Tree, column: int) -> list[str]:
        lines: list[str] = []
        pad = " " * column
        for segment, child in tree.items():
            key = self.key(segment)
            if isinstance(child, dict | list) and child:
                lines.append(f"{pad}{key}:")
                inner = column + self.unit
                lines += self.block_map(child, inner) if isinstance(child, dict) else self.block_seq(child, inner)
            elif isinstance(child, dict | list):
                lines.append(f"{pad}{key}: {'{}' if isinstance(child, dict) else '[]'}")
            elif child is None:
                lines.append(f"{pad}{key}:")
            else:
                lines.append(f"{pad}{key}: {self.scalar(child, flow=False, indent=column + self.unit)}")
        return lines

    def block_seq(self, items: list[TreeValue], column: int) -> list[str]:
        lines: list[str] = []
        pad = " " * column
        for item in items:
            if isinstance(item, dict | list) and item:
                inner = self.block_map(item, column + 2) if isinstance(item, dict) else self.block_seq(item, column + 2)
                inner[0] = pad + "- " + inner[0][column + 2 :]
                lines += inner
            elif isinstance(item, dict | list):
                lines.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}- {self.scalar(item, flow=False, indent=column + 2)}")
        return lines

    def flow(self, value: TreeValue) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.key(k, flow=True)}: {self.flow(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value, flow=True, indent=0)


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


class _Splicer:
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
        self.out = _Emitter(layout.unit, layout.style, layout.quote, layout.literal)
        self._children: dict[Path, list[str]] | None = None

    # positions

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def clean_line_start(self, pos: int) -> int:
        start = self.line_start(pos)
        if self.text[start:pos].strip(" \t"):
            raise _Unsupported("the node does not start its line")
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
            if (anchor_key is not None and anchor_key not in self.values) or not _same_leaf(wanted, current):
                # the anchor goes away or will say something else: the alias gets its own scalar
                text = self.out.scalar(wanted, flow=node.flow, indent=node.owner_column + self.lay.unit)
                self.edit(node.start, node.end, text)
        elif not _same_leaf(wanted, current):
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
        edits = sorted(self.edits, key=lambda e: (e[0], e[1] - e[0] > 0, e[2]))
        parts: list[str] = []
        pos = 0
        for start, end, _rank, text in edits:
            if start < pos:
                raise _Unsupported("overlapping edits")
            parts.append(self.text[pos:start])
            parts.append(text)
            pos = end
        parts.append(self.text[pos:])
        return "".join(parts)


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
        bom = data.startswith(_BOM)
        body = data[len(_BOM) :] if bom else data
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            good = body[: e.start].decode("utf-8")
            line, column = _line_column(good, len(good))
            raise FormatError(path, line, column, f"invalid UTF-8 byte 0x{body[e.start]:02x}") from None
        try:
            layout = self.load(text, bom, locale)
        except ParseFailure as e:
            line, column = _line_column(text, e.pos)
            raise FormatError(path, line, column, e.detail) from None
        return ParsedFile(entries={k: leaf_value(n) for k, n in layout.leaves.items()}, raw=data, layout=layout)

    def load(self, text: str, bom: bool, locale: str | None) -> YamlLayout:
        """Parse ``text`` into a layout; raises only ``ParseFailure``."""
        loader = _Loader(text)
        try:
            top = _Builder(text, loader).document()
        except yaml.YAMLError as e:
            raise ParseFailure(_error_position(text, e), _error_detail(e)) from None
        except RecursionError:  # defensive: MAX_DEPTH should always trigger first
            raise ParseFailure(0, "nesting too deep") from None
        finally:
            loader.dispose()
        root_key, root_pair, root = self.select_root(top, locale)
        leaves: dict[str, ScalarNode | AliasNode] = {}
        kinds: dict[Path, str] = {}
        if root is not None:
            _flatten(root, (), leaves, kinds)
        style, quote, literal = _style_stats(leaves)
        newline_at = text.find("\n")
        return YamlLayout(
            text=text,
            bom=bom,
            top=top,
            root_key=root_key,
            root_pair=root_pair,
            root=root,
            leaves=leaves,
            kinds=kinds,
            newline="\r\n" if newline_at > 0 and text[newline_at - 1] == "\r" else "\n",
            unit=_indent_unit(top),
            style=style,
            quote=quote,
            literal=literal,
        )

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        if target is not None and _same_entries(values, target.entries):
            return target.raw
        layout_file = target if target is not None else source
        layout = layout_file.layout if isinstance(layout_file.layout, YamlLayout) else self.load("", False, locale)
        kinds = dict(layout.kinds)
        if isinstance(source.layout, YamlLayout):
            kinds = {**source.layout.kinds, **kinds}
        order = _order(values, source, target)
        source_layout = source.layout if isinstance(source.layout, YamlLayout) else None
        root_name = self.root_name(layout, source_layout, locale, new_file=target is None)
        text = None
        with contextlib.suppress(_Unsupported):
            text = _Splicer(layout, values, order, kinds, root_name).run()
        expected_root = root_name or layout.root_key
        if text is None or not self.holds(text, values, expected_root):
            text = self.emit(layout, values, order, kinds, expected_root)
            if not self.holds(text, values, expected_root):
                raise ValueError("these values cannot be written as YAML")
        out = text.encode("utf-8")
        return _BOM + out if layout.bom else out

    def holds(self, text: str, values: Mapping[str, Leaf], root_name: str | None) -> bool:
        """Whether ``text`` parses (with root ``root_name``) to exactly ``values``."""
        try:
            layout = self.load(text, False, root_name)
        except ParseFailure:
            return False
        return _same_entries({k: leaf_value(n) for k, n in layout.leaves.items()}, values)

    def emit(
        self,
        layout: YamlLayout,
        values: Mapping[str, Leaf],
        order: list[str],
        kinds: Mapping[Path, str],
        root_name: str | None,
    ) -> str:
        """The whole document written afresh (the fallback when splicing cannot do it)."""
        out = _Emitter(layout.unit, layout.style, layout.quote, layout.literal)
        tree = build_tree(order, values, (), kinds)
        if root_name is not None:
            lines = [out.key(root_name) + ":" + ("" if tree else " {}"), *out.block_map(tree, layout.unit)]
        else:
            lines = out.block_map(tree, 0) if tree else ["{}"]
        return "\n".join(lines).replace("\n", layout.newline) + layout.newline
