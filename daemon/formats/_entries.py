"""Entry-level helpers shared by the formats' ``render``: key order, leaf equality, leaf text.

``Format.render`` promises the same things of every format (keys in source order, then the
target's own, then the rest; the target's raw bytes back when it already holds the values),
so the pieces that implement those promises are written once here. Private to
``daemon.formats``.

Not every format uses ``same_entries``: JSON compares floats by ``repr`` (``0.0`` and ``-0.0``
are different files), and the XML formats compare their coerced string values; those checks
stay in their modules.
"""

from __future__ import annotations

from collections.abc import Mapping

from daemon.formats.base import Leaf, ParsedFile


def same_leaf(a: Leaf, b: Leaf) -> bool:
    """Equality that tells ``1`` from ``1.0`` from ``True`` (Python's ``==`` does not)."""
    return type(a) is type(b) and a == b


def same_entries(a: Mapping[str, Leaf], b: Mapping[str, Leaf]) -> bool:
    """Same keys with the same values (see ``same_leaf``), order ignored."""
    return len(a) == len(b) and all(key in b and same_leaf(value, b[key]) for key, value in a.items())


def key_order(values: Mapping[str, Leaf], source: ParsedFile, target: ParsedFile | None) -> list[str]:
    """The keys of ``values`` in ``Format.render``'s order: as in ``source``, then as in
    ``target`` for keys only the target has, then as given."""
    seen: dict[str, None] = {}
    for parsed in (source, target):
        if parsed is not None:
            seen.update((key, None) for key in parsed.entries if key in values)
    seen.update((key, None) for key in values)
    return list(seen)


def leaf_text(value: Leaf) -> str:
    """A leaf as the text of a format whose values are always strings (``true``, ``3``, ``""`` for None)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
