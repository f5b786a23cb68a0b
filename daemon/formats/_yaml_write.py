"""Writing new YAML in a file's own style: scalars, keys, and whole block or flow collections.

Used by the splicing writer (``daemon.formats._yaml_splice``) for the values and keys it
inserts, and by ``PlainYamlFormat.emit`` when a document must be written afresh. A scalar
keeps the style the file prefers (plain, single- or double-quoted, literal or folded block)
where the value allows it, and is always one that reads back as the same value under YAML
1.1's rules, as PyYAML and Psych apply them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml.emitter

from daemon import keypaths
from daemon.formats._yaml_read import STR_TAG, Path, implicit_tag
from daemon.formats.base import Leaf

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

Tree = dict[str, "TreeValue"]
TreeValue = Leaf | Tree | list["TreeValue"]


def _resolves_to_str(text: str) -> bool:
    return implicit_tag(text) == STR_TAG


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
class Emitter:
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
