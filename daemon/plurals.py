"""Plural categories per locale (CLDR, through babel) and the keys a target needs.

Formats expose each plural form as a leaf whose last segment is ``#<category>``
(``items/#one``, ``items/#other``). A target locale needs exactly its own CLDR categories:
English has one/other, Polish one/few/many/other, Japanese only other. ``expand_for`` turns
the source's plural groups into the set the target needs; a category the source lacks is
seeded with the source's ``other`` text, so the job sent to the provider asks for every form
the target needs (the translator sees the general form and inflects it for the locale).
Index-based plural forms (gettext ``#0``, ``#1``) are left alone: their count comes from the
target file's own ``Plural-Forms`` header.
"""

from __future__ import annotations

import functools

from daemon.formats.base import Leaf

CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
_MARK = "#"


@functools.cache
def categories(locale: str) -> tuple[str, ...]:
    """The CLDR plural categories of ``locale`` in canonical order (always ending in other).

    babel is imported here, not at module level: only a source with plural groups asks, and
    every scan imports this module.
    """
    from babel import Locale, UnknownLocaleError

    try:
        tags = Locale.parse(locale.replace("-", "_")).plural_form.tags
    except (UnknownLocaleError, ValueError):
        tags = frozenset({"one"})  # unknown locale: the common one/other shape
    return tuple(c for c in CLDR_ORDER if c in tags or c == "other")


def plural_parts(key: str) -> tuple[str, str] | None:
    """``("items", "few")`` for ``items/#few``; None for a key that is not a CLDR plural form."""
    head, _, last = key.rpartition("/")
    if last.startswith(_MARK) and last[1:] in CLDR_ORDER:
        return head, last[1:]
    return None


def expand_for(source: dict[str, Leaf], locale: str) -> dict[str, Leaf]:
    """The source entries as the target ``locale`` needs them, in source order.

    Each plural group (keys ``<head>/#<category>`` with an ``other`` form) becomes exactly the
    locale's categories; everything else is unchanged.
    """
    groups: dict[str, dict[str, Leaf]] = {}
    for key, value in source.items():
        parts = plural_parts(key)
        if parts is not None:
            groups.setdefault(parts[0], {})[parts[1]] = value
    groups = {head: forms for head, forms in groups.items() if "other" in forms}
    if not groups:
        return source
    wanted = categories(locale)
    out: dict[str, Leaf] = {}
    done: set[str] = set()
    for key, value in source.items():
        parts = plural_parts(key)
        if parts is None or parts[0] not in groups:
            out[key] = value
            continue
        head = parts[0]
        if head in done:
            continue
        done.add(head)
        forms = groups[head]
        for category in wanted:
            out[f"{head}/{_MARK}{category}"] = forms.get(category, forms["other"])
    return out
