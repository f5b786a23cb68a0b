"""Walking a job's ``data``: which leaves get translated, and which are locked.

Lingo.dev translates string leaves at any depth and passes numbers, booleans and null
through untouched, keeping the structure (api-contracts §1.4). ``lockedKeys`` (§1.5) keep
whole subtrees verbatim. Only bare names are documented; the glob rules were not readable,
so this engine picks a small, predictable syntax:

* A pattern without ``.`` is matched against every path segment: ``id`` locks ``id`` and
  ``author.id`` (a bare name matches wherever it is a complete segment). ``*`` matches any run
  of characters inside a segment: ``*_url`` locks ``avatar_url`` anywhere.
* A pattern with ``.`` is a dotted path from the root, one pattern segment per path segment:
  ``author.id``, ``items.*.sku`` (``*`` = one whole segment, array indices are segments),
  ``**`` = any number of segments (``**.sku`` is the floating form).

Translation is split from walking so a batch translator (an LLM) can collect every string
first with ``iter_strings`` and then map answers back with ``translate_data``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeAlias

JSONValue: TypeAlias = Any
"""Any JSON value. Deliberately ``Any`` rather than a recursive union: data comes from
``json.loads`` and goes back to JSON, and a union would force every caller to narrow."""
StringTranslator: TypeAlias = Callable[[str, str], str]
"""``(text, locale) -> translated text``."""

Path: TypeAlias = tuple[str, ...]


@lru_cache(maxsize=1024)
def _segment_regex(glob: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")), re.DOTALL)


def _segment_matches(glob: str, segment: str) -> bool:
    return _segment_regex(glob).fullmatch(segment) is not None


def _path_matches(pattern: Sequence[str], path: Sequence[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_path_matches(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and _segment_matches(head, path[0]) and _path_matches(rest, path[1:])


def is_locked(path: Sequence[str], patterns: Sequence[str]) -> bool:
    """Whether the node at ``path`` (object keys and array indices) is locked by a pattern."""
    if not path:
        return False
    for pattern in patterns:
        if "." in pattern:
            if _path_matches(pattern.split("."), path):
                return True
        elif _segment_matches(pattern, path[-1]):
            return True
    return False


def iter_strings(data: JSONValue, locked_patterns: Sequence[str] = (), _path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every translatable string leaf with its path, in document order."""
    if _path and is_locked(_path, locked_patterns):
        return
    if isinstance(data, str):
        yield _path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from iter_strings(value, locked_patterns, (*_path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from iter_strings(value, locked_patterns, (*_path, str(index)))


def translate_data(
    data: JSONValue,
    locale: str,
    translator: StringTranslator,
    locked_patterns: Sequence[str] = (),
    _path: Path = (),
) -> JSONValue:
    """A copy of ``data`` with every unlocked string leaf passed through ``translator``.

    Locked subtrees, numbers, booleans and null are copied verbatim; keys are never translated.
    """
    if _path and is_locked(_path, locked_patterns):
        return data
    if isinstance(data, str):
        return translator(data, locale)
    if isinstance(data, dict):
        return {k: translate_data(v, locale, translator, locked_patterns, (*_path, k)) for k, v in data.items()}
    if isinstance(data, list):
        return [translate_data(v, locale, translator, locked_patterns, (*_path, str(i))) for i, v in enumerate(data)]
    return data


def path_label(path: Path) -> str:
    """A dotted rendering of a path, for warnings and error messages."""
    return ".".join(path)
