"""The YAML front matter of Markdown files: which scalars are entries, and writing them back in place.

The front matter (the ``---`` lines at the very top of a file) is read by ruamel.yaml's
composer, whose node marks give the exact character span of each wanted scalar; a changed
value replaces that span only, in the scalar's own quoting style when it can hold the value
(``yaml_scalar``), so the rest of the front matter stays byte-identical. Used by
``daemon.formats.markdown``, whose docstring describes the entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats.base import Leaf

_STR_TAG = "tag:yaml.org,2002:str"
# Plain scalars that ruamel (YAML 1.2) reads as strings but YAML 1.1 readers (Jekyll) do not.
_YAML11_SPECIAL = re.compile(r"(?i:y|n|yes|no|on|off|true|false|null|~)$|[-+]?[0-9][0-9_:.,eE+-]*$")


@dataclass(frozen=True)
class FrontScalar:
    """A front matter value: its span in the front matter text, its style, its decoded value."""

    start: int
    end: int
    style: str | None
    value: str


@dataclass(frozen=True)
class FrontMatter:
    """The YAML between the ``---`` lines (``text``), which ends at line ``close``."""

    text: str
    close: int
    fields: Mapping[str, FrontScalar]
    names: frozenset[str]
    """Every top-level key, entry or not: a key is appended only if it is not there at all."""
    extensible: bool
    """True when keys can be appended (a mapping, or nothing at all)."""


# --- reading ------------------------------------------------------------------------------


def front_matter_end(lines: Sequence[str]) -> int | None:
    """Index of the ``---`` line closing the front matter, or None when there is none."""
    if not lines or lines[0].rstrip() != "---":
        return None
    return next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)


def _compose(text: str) -> Node | None:
    """The YAML node tree of ``text``; ruamel's own errors only (see ``read_front_matter``)."""
    node = YAML().compose(text)
    return node if isinstance(node, Node) else None


def read_front_matter(lines: list[str], endings: list[str], close: int, keys: Sequence[str], path: str) -> FrontMatter:
    text = "".join(line + end for line, end in zip(lines[1:close], endings[1:close], strict=True))
    try:
        root = _compose(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 2 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise FormatError(path, line, column, f"front matter: {e.problem or e.context or 'invalid YAML'}") from None
    except Exception as e:  # ruamel is not hardened against every input; any failure means unreadable
        raise FormatError(path, 2, 1, f"front matter: {e}") from None
    fields: dict[str, FrontScalar] = {}
    names: set[str] = set()
    if isinstance(root, MappingNode):
        names.update(str(k.value) for k, _ in root.value if isinstance(k, ScalarNode))
        for key_node, value_node in root.value:
            scalar = _front_scalar(text, key_node, value_node, keys)
            if scalar is None:
                continue
            name = str(key_node.value)
            if name in fields:
                raise FormatError(
                    path,
                    key_node.start_mark.line + 2,
                    key_node.start_mark.column + 1,
                    f"front matter: duplicate key {name!r}",
                )
            fields[name] = scalar
    extensible = root is None or isinstance(root, MappingNode)
    return FrontMatter(text, close, fields, frozenset(names), extensible)


def _front_scalar(text: str, key: Node, value: Node, wanted: Sequence[str]) -> FrontScalar | None:
    """The scalar of a wanted key, if it is a plain string written right after its key.

    Aliases, anchors and tags are left alone: editing them in place would change other keys.
    """
    if not (isinstance(key, ScalarNode) and key.value in wanted and isinstance(value, ScalarNode)):
        return None
    if value.tag != _STR_TAG or not isinstance(value.value, str):
        return None
    start, end = value.start_mark.index, value.end_mark.index
    between = text[key.end_mark.index : start]
    if (
        start < key.end_mark.index
        or not re.fullmatch(r"[ \t]*:[ \t\r\n]*", between)
        or text[start : start + 1] in "&!*"
    ):
        return None
    core_end = start + len(text[start:end].rstrip())  # block scalars end after their line break
    return FrontScalar(start, core_end, value.style, value.value)


# --- writing ------------------------------------------------------------------------------


def _reads_back(scalar: str, value: str) -> bool:
    """True if ``key: <scalar>`` is read by YAML as exactly the string ``value``."""
    try:
        root = _compose(f"k: {scalar}\n")
    except Exception:  # as in read_front_matter: whatever ruamel raises, the candidate is unusable
        return False
    if not isinstance(root, MappingNode) or len(root.value) != 1:
        return False
    node = root.value[0][1]
    return isinstance(node, ScalarNode) and node.tag == _STR_TAG and node.value == value


def yaml_scalar(value: str, style: str | None = None) -> str:
    """A one-line YAML scalar for ``value``, in ``style`` if that works, else plain, '…', "…".

    Each candidate is checked by reading it back, which is simpler and surer than encoding
    YAML's rules for plain scalars (``: ``, `` #``, ``yes``, leading indicators…).
    """
    single = "'" + value.replace("'", "''") + "'"
    double = json.dumps(value, ensure_ascii=False)
    preferred = {"'": [single], '"': [double]}.get(style or "", [])
    plain = [] if _YAML11_SPECIAL.match(value) else [value]
    for candidate in [*preferred, *plain, single, double, json.dumps(value)]:
        if "\n" not in candidate and "\r" not in candidate and _reads_back(candidate, value):
            return candidate
    raise ValueError(f"cannot write {value[:40]!r} as a YAML scalar")


def render_front(front: FrontMatter, values: Mapping[str, Leaf], newline: str) -> str:
    """The front matter text with the wanted values in place, and missing keys appended."""
    text = front.text
    for name, scalar in sorted(front.fields.items(), key=lambda item: -item[1].start):
        new = values.get(keypaths.join(["front", name]))
        if isinstance(new, str) and new != scalar.value:
            text = text[: scalar.start] + yaml_scalar(new, scalar.style) + text[scalar.end :]
    if not front.extensible:
        return text
    for key, new in values.items():
        segments = keypaths.split(key)
        if len(segments) == 2 and segments[0] == "front" and segments[1] not in front.names and isinstance(new, str):
            if text and not text.endswith(("\n", "\r")):
                text += newline
            text += f"{yaml_scalar(segments[1])}: {yaml_scalar(new)}{newline}"
    return text
