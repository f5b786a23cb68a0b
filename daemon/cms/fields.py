"""An entry's translatable fields as flat keys, and flat keys back into a write payload.

A ``text`` field is one key (``seo.description`` -> ``seo/description``). A ``markdown``
field is split into blocks by the Markdown format, one key per block under the field's
key (``body/body/intro/0``), and rendered back around the source's skeleton, so a long
rich-text field sends only the paragraphs that changed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from daemon import keypaths
from daemon.cms import blocks
from daemon.cms.config import CmsField
from daemon.cms.feed import json_path
from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile


@dataclass
class EntryContent:
    """One locale version of an entry: its raw JSON and the parsed rich-text fields."""

    entry: dict[str, Any]
    markdown: dict[str, ParsedFile]


def field_key(spec: CmsField) -> str:
    return keypaths.join(spec.path.split("."))


def read_fields(entry: dict[str, Any], specs: list[CmsField], shown: str) -> tuple[dict[str, Leaf], EntryContent]:
    """The flat entries of ``entry``'s translatable fields (absent or null fields have none)."""
    entries: dict[str, Leaf] = {}
    parsed: dict[str, ParsedFile] = {}
    for spec in specs:
        value = json_path(entry, spec.path)
        if value is None:
            continue
        if spec.kind == "blocks":
            if not isinstance(value, list):
                raise FormatError(shown, None, None, f"field '{spec.path}' is {type(value).__name__}, not blocks; "
                                  "use kind 'text' or 'markdown' for it")
            entries.update(blocks.segments(value, field_key(spec)))
            continue
        if not isinstance(value, str):
            raise FormatError(shown, None, None, f"field '{spec.path}' is {type(value).__name__}, not text; "
                              "list only text or rich-text (markdown) fields under 'fields'")
        key = field_key(spec)
        if spec.kind == "text":
            entries[key] = value
            continue
        document = get_format("markdown").parse(value.encode("utf-8"), path=f"{shown} {spec.path}")
        parsed[spec.path] = document
        entries.update((f"{key}/{inner}", text) for inner, text in document.entries.items())
    return entries, EntryContent(entry, parsed)


def payload(
    values: dict[str, Leaf],
    specs: list[CmsField],
    *,
    source: EntryContent,
    target: EntryContent | None,
    shown: str = "entry",
) -> dict[str, Any]:
    """The top-level fields to write so that the target holds exactly ``values``.

    A nested path rewrites its whole top-level value (a component), starting from the target's
    (or, for a new locale, the source's without its ids) so that the fields we do not
    translate keep their values.
    """
    out: dict[str, Any] = {}
    for spec in specs:
        key = field_key(spec)
        # a field the target has but the values no longer do was emptied in the source: clear it,
        # or the old translation would stay and be adopted as current when the source returns
        had = target is not None and json_path(target.entry, spec.path) is not None
        value: Any
        if spec.kind == "text":
            if key not in values and not had:
                continue
            value = values.get(key)
        elif spec.kind == "blocks":
            structure = json_path(source.entry, spec.path)
            if not isinstance(structure, list):
                if had:
                    _put(out, spec.path, None, source=source, target=target)
                continue
            texts = {k: str(v) for k, v in values.items() if k.startswith(key + "/")}
            try:
                value = blocks.render(structure, texts, key)
            except blocks.BlocksError as exc:
                raise FormatError(shown, None, None, str(exc)) from None
        else:
            prefix = key + "/"
            inner = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
            skeleton = source.markdown.get(spec.path)
            if skeleton is None:
                if had:
                    _put(out, spec.path, None, source=source, target=target)
                continue
            before = target.markdown.get(spec.path) if target is not None else None
            value = get_format("markdown").render(inner, source=skeleton, target=before).decode("utf-8")
        _put(out, spec.path, value, source=source, target=target)
    return out


def _put(out: dict[str, Any], path: str, value: Any, *, source: EntryContent, target: EntryContent | None) -> None:
    """Set ``path`` in the payload; a nested path starts from the whole top-level value."""
    parts = path.split(".")
    if len(parts) == 1:
        out[parts[0]] = value
        return
    top = parts[0]
    if top not in out:
        base = json_path(target.entry, top) if target is not None else None
        out[top] = copy.deepcopy(base) if isinstance(base, dict) else _without_ids(json_path(source.entry, top))
    holder = out[top]
    for part in parts[1:-1]:
        holder = holder.setdefault(part, {})
    holder[parts[-1]] = value


def _without_ids(value: Any) -> dict[str, Any]:
    """A copy of a source component for a new locale: ids belong to the source's rows."""
    stripped = _strip_ids(value)
    return stripped if isinstance(stripped, dict) else {}


def _strip_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return copy.deepcopy(value)
