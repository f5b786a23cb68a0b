"""Splicing edits into the text a file was parsed from.

Most formats never re-serialise a file: ``render`` computes edits (replace ``text[start:end]``,
an insertion when ``start == end``) against the text it parsed and applies them in one pass,
so that every character outside a changed value stays as it was. The two ways of applying
them are here, once:

- ``apply_edits`` (Apple ``.strings``, Java ``.properties``, ARB, String Catalogs): edits are
  ``(start, end, sequence, replacement)``, sorted as tuples; deletions that overlap merge, and
  an insertion that falls inside a deleted range moves to its end. Those formats delete whole
  blocks whose ranges may touch (a statement and the comment attached to it).
- ``apply_ranked`` (gettext PO, YAML): edits are ``(start, end, rank, replacement)``; at one
  offset insertions come before a replacement, then lower ranks first. Overlapping edits are
  a mistake of the caller's plan and raise ``OverlappingEdits``, which the YAML writer takes
  as "cannot splice this, emit the document afresh".

The XML formats splice bytes with their own ``splice`` (``daemon.formats._xml_splice``), whose
insertions keep the order they were recorded in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

Edit = tuple[int, int, int, str]
"""``(start, end, sequence, replacement)`` for ``apply_edits``."""

Rank = TypeVar("Rank", int, tuple[int, int])


class OverlappingEdits(AssertionError):
    """Two edits given to ``apply_ranked`` touch the same characters.

    An ``AssertionError`` because for most callers it is a bug in their plan, never an input
    problem; the YAML writer catches it and falls back to emitting the document.
    """


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply (start, end, sequence, replacement) edits; overlapping deletions are merged.

    The list is sorted in place. An insertion (``start == end``) that falls strictly inside a
    deleted range moves to its end.
    """
    edits.sort()
    out: list[str] = []
    pos = 0
    for start, end, _, replacement in edits:
        start = max(start, pos)
        end = max(end, start)
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def apply_ranked(text: str, edits: Iterable[tuple[int, int, Rank, str]]) -> str:
    """Apply non-overlapping (start, end, rank, replacement) edits.

    At one offset, insertions go before a replacement, and among those lower ranks first (edits
    of equal rank keep their order). Raises ``OverlappingEdits`` when two edits overlap.
    """
    parts: list[str] = []
    pos = 0
    for start, end, _rank, replacement in sorted(edits, key=lambda e: (e[0], e[1] > e[0], e[2])):
        if start < pos:
            raise OverlappingEdits("overlapping edits")
        parts.append(text[pos:start])
        parts.append(replacement)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
