"""i18next JSON v4 files: ``JsonFormat`` plus the plural suffixes of i18next v4.

Parsing and writing the JSON itself is ``JsonFormat``'s (same keys, same layout detection,
same byte-for-byte fidelity); this module only renames keys. i18next v4 stores the plural
forms of a message as sibling keys with a CLDR category suffix: ``items_one``,
``items_other``, and for ordinals ``place_ordinal_one``, ``place_ordinal_other``. Here such a
group becomes one entry key with one leaf per form, so that the daemon can see which forms a
locale lacks and add them (Polish needs ``few`` and ``many`` where English has none)::

    {"items_one": "1 item", "items_other": "{{count}} items"}
        items/#one    = "1 item"
        items/#other  = "{{count}} items"
    {"place_ordinal_one": "{{count}}st", "place_ordinal_other": "{{count}}th"}
        place/#ordinal_one    = "{{count}}st"
        place/#ordinal_other  = "{{count}}th"

Ordinal forms carry the ``ordinal_`` prefix in their segment because ordinal categories
follow other CLDR rules than cardinal ones (English ordinals use ``two`` and ``few``); a
consumer that only knows cardinal ``#<category>`` segments leaves them alone, which is the
safe mistake.

A key counts as a plural form only when its suffix is a CLDR category *and* the group has an
``_other`` form (``_other`` alone is a group: Japanese needs nothing else), so
``button_one`` alone, or excalidraw's ``arrowhead_cardinality_one``, stays a plain key. A form
whose entry key is already a literal key of the file (an object key that really starts with
``#``) stays a plain key too, so that two file keys never share one entry key.

``render`` maps entry keys back (keys seen in the source or the target keep their spelling,
new ``#<category>`` segments become ``_<category>`` suffixes) and lets ``JsonFormat`` write
the file, after moving every plural form next to its siblings: forms the file already has keep
their order, new ones go in CLDR order (zero, one, two, few, many, other).

Not handled: i18next v3 plurals (``items_plural``, ``items_0``) and context suffixes
(``friend_male``); both stay plain keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from daemon import keypaths
from daemon.formats._json import Item
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.json_format import JsonFormat, render_json_in_order

CATEGORIES: tuple[str, ...] = ("zero", "one", "two", "few", "many", "other")
"""The CLDR plural categories, in the order new forms are written."""

_ORDINAL = "ordinal_"
_CATEGORY = "|".join(CATEGORIES)
_SUFFIX = re.compile(rf"^(?P<base>.+?)_(?P<ordinal>ordinal_)?(?P<category>{_CATEGORY})$")
_SEGMENT = re.compile(rf"^#(?P<ordinal>ordinal_)?(?P<category>{_CATEGORY})$")


@dataclass(frozen=True)
class I18nextLayout:
    """The file as ``JsonFormat`` parsed it, and the file key behind each entry key."""

    json: ParsedFile
    json_keys: Mapping[str, str]


def plural_segment(category: str, *, ordinal: bool = False) -> str:
    """The last key segment of one plural form: ``#one``, or ``#ordinal_one`` for ordinals."""
    return f"#{_ORDINAL if ordinal else ''}{category}"


def _candidates(segment: str) -> Iterable[tuple[str, bool, str]]:
    """Ways to read one object key as ``<base>_[ordinal_]<category>``: ordinal first.

    ``place_ordinal_one`` is either the ordinal ``one`` of ``place`` or the cardinal ``one`` of
    ``place_ordinal``; i18next writes the first, so it is tried first.
    """
    match = _SUFFIX.match(segment)
    if match is None:
        return
    base, category = match["base"], match["category"]
    if match["ordinal"]:
        yield base, True, category
        yield f"{base}_ordinal", False, category
    else:
        yield base, False, category


def _entry_key(json_key: str, json_entries: Mapping[str, Leaf]) -> str:
    """The entry key of one file key: ``a/items_one`` becomes ``a/items/#one`` if it is a plural form."""
    *parents, last = keypaths.split(json_key)
    for base, ordinal, category in _candidates(last):
        other = keypaths.join([*parents, f"{base}_{_ORDINAL if ordinal else ''}other"])
        if other not in json_entries:
            continue
        entry = keypaths.join([*parents, base, plural_segment(category, ordinal=ordinal)])
        return json_key if entry in json_entries else entry
    return json_key


def _json_key(entry_key: str) -> str:
    """The file key for an entry key that neither file has: ``a/items/#few`` becomes ``a/items_few``."""
    segments = keypaths.split(entry_key)
    match = _SEGMENT.match(segments[-1])
    if match is None or len(segments) < 2:
        return entry_key
    base = segments[-2] + "_" + (match["ordinal"] or "") + match["category"]
    return keypaths.join([*segments[:-2], base])


def _plural_group(entry_key: str) -> tuple[str, bool, int] | None:
    """``(parent entry key, ordinal, CLDR rank)`` of a plural form's entry key, else None."""
    parent, _, last = entry_key.rpartition("/")
    match = _SEGMENT.match(last)
    if match is None or not parent:
        return None
    return parent, bool(match["ordinal"]), CATEGORIES.index(match["category"])


def _split(parsed: ParsedFile) -> tuple[ParsedFile, Mapping[str, str]]:
    """The JSON-level view of a parsed file (a file parsed by another format maps keys to themselves)."""
    if isinstance(parsed.layout, I18nextLayout):
        return parsed.layout.json, parsed.layout.json_keys
    return parsed, {}


class I18nextFormat(JsonFormat):
    """i18next v4 JSON, nested or flat, with plural forms as ``#<category>`` leaves."""

    name: ClassVar[str] = "i18next"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        parsed = super().parse(data, path=path, locale=locale)
        entries: dict[str, Leaf] = {}
        json_keys: dict[str, str] = {}
        for json_key, value in parsed.entries.items():
            key = _entry_key(json_key, parsed.entries)
            entries[key] = value
            json_keys[key] = json_key
        return ParsedFile(entries=entries, raw=data, layout=I18nextLayout(parsed, json_keys))

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        src_json, src_keys = _split(source)
        tgt_json, tgt_keys = _split(target) if target is not None else (None, {})
        known = {**src_keys, **tgt_keys}
        json_values: dict[str, Leaf] = {}
        groups: dict[str, tuple[str, bool, int]] = {}
        for key, value in values.items():
            json_key = known.get(key) or _json_key(key)
            if json_key in json_values:
                raise ValueError(f"keys {key!r} and another key would both be written as {json_key!r}")
            json_values[json_key] = value
            group = _plural_group(key)
            if group is not None and json_key != key:
                groups[json_key] = group
        layout_file = tgt_json if tgt_json is not None else src_json
        order = self._grouped(self._order(json_values, src_json, tgt_json), groups, layout_file)
        return render_json_in_order(self, json_values, order, src_json, tgt_json)

    @staticmethod
    def _grouped(order: list[Item], groups: Mapping[str, tuple[str, bool, int]], layout_file: ParsedFile) -> list[Item]:
        """``order`` with the forms of each plural group together, at the place of the first one.

        Within a group, forms keep their order in the file whose layout is used; a form that
        file lacks goes before the first form of a later CLDR category.
        """
        if not groups:
            return order
        members: dict[tuple[str, bool], list[str]] = {}
        for json_key, (parent, ordinal, _) in groups.items():
            members.setdefault((parent, ordinal), []).append(json_key)
        layout_position = {item: n for n, item in enumerate(layout_file.entries)}
        result: list[Item] = []
        for item in order:
            if not isinstance(item, str) or item not in groups:
                result.append(item)
                continue
            parent, ordinal, _ = groups[item]
            forms = members.pop((parent, ordinal), None)
            if forms is not None:
                result += _form_order(forms, groups, layout_position)
        return result


def _form_order(
    forms: list[str], groups: Mapping[str, tuple[str, bool, int]], layout_position: Mapping[str, int]
) -> list[str]:
    """The forms of one group: those of the layout file in its order, the others slotted in by CLDR rank."""
    placed = sorted((f for f in forms if f in layout_position), key=layout_position.__getitem__)
    for form in sorted((f for f in forms if f not in layout_position), key=lambda f: groups[f][2]):
        rank = groups[form][2]
        later = next((n for n, other in enumerate(placed) if groups[other][2] > rank), len(placed))
        placed.insert(later, form)
    return placed
