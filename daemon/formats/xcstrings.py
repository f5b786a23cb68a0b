"""Xcode String Catalogs (``.xcstrings``): one JSON file holding every locale of a table.

``parse(data, locale=L)`` returns the entries of locale ``L`` (the file's ``sourceLanguage``
when ``L`` is None); ``render(values, locale=L)`` writes locale ``L``'s values back into the
same file and leaves every other locale alone. The JSON is read by ``json.loads`` (fast: the
IceCubes catalog is 2 MB and is parsed once per locale); only when it fails, or when the
structure is wrong, is the text parsed again by the position-aware parser of
``daemon.formats._json`` (``SpanParser``) to report the line and
column. Rendering also uses that parser, for the character span of each value it changes.

Flat keys: ``<key>`` for a localization's ``stringUnit``, and one segment per level below it:

- ``<key>/#one``: the ``one`` case of a ``plural`` variation;
- ``<key>/@iphone``: the ``iphone`` case of a ``device`` variation (``<key>/@iphone/#one``
  when the device case is itself pluralised);
- ``<key>/%#@count@/#one``: a case of the substitution ``count`` (the format string of the
  key's own ``stringUnit`` refers to it as ``%#@count@``);
- ``<key>/<kind>=<case>``: a case of any other variation kind.

The key itself is escaped with ``daemon.keypaths.escape``. For the source language, a key with
no localization yet stands for itself (Xcode shows the key as the source text), unless it is
marked ``"shouldTranslate" : false``: those keys are never entries, in any locale.

Rendering is hand-written to match Xcode's own serialisation (two-space indent, ``" : "``,
keys sorted the way Xcode sorts them, empty objects written ``{`` blank line ``}``), so that a
file Xcode wrote stays byte-identical except for what changed: a changed value replaces its
JSON string and sets its unit's ``state`` to ``translated``; a localization that gains or loses
leaves (a plural case, a new locale) re-serialises that one key's entry, whose unchanged lines
come out as they were; a key the file lacks is added at its sorted place. A new localization
copies the source language's structure (substitution ``argNum``/``formatSpecifier``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from daemon import keypaths
from daemon.errors import FormatError
from daemon.formats._entries import leaf_text, same_entries
from daemon.formats._json import Span, SpanParser, parse_spans, scanstring, skip_ws
from daemon.formats._splice import apply_edits
from daemon.formats._text import UTF8_BOM, decode_utf8, line_column
from daemon.formats.base import Format, Leaf, ParsedFile

Sub = tuple[str, ...]
"""The segments below a key (``()`` for its own ``stringUnit``, ``("#one",)``...)."""
Node = dict[str, Any]

_STRUCTURE = ("stringUnit", "substitutions", "variations")
_RUN = re.compile(r"\d+|\D+")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Style:
    """How the file writes JSON (Xcode's style unless the file shows another)."""

    indent: str = "  "
    key_separator: str = " : "
    newline: str = "\n"
    empty_object: str = "{\n\n}"
    """An empty object, with ``}`` then indented to its level (Xcode puts a blank line inside)."""


@dataclass(frozen=True)
class CatalogLayout:
    """The file's text and decoded tree, and which locale this parse was for."""

    text: str
    bom: bool
    tree: Node
    locale: str
    """The localization key read, as the file spells it."""
    source_language: str
    style: Style


class _Bad(Exception):
    """Internal: the catalog's structure is wrong at a JSON path."""

    def __init__(self, path: tuple[str, ...], detail: str) -> None:
        super().__init__(detail)
        self.path = path
        self.detail = detail


def sort_key(text: str) -> tuple[list[tuple[str, int]], str]:
    """Xcode's key order (Finder-like): case-insensitive, digit runs by value, lowercase first on ties."""
    runs = [("0", int(run)) if run.isdigit() else (run.casefold(), 0) for run in _RUN.findall(text)]
    return runs, text.swapcase()


def _unique(pairs: list[tuple[str, Any]]) -> Node:
    """``object_pairs_hook`` refusing repeated keys (the slow parser then says where)."""
    node = dict(pairs)
    if len(node) != len(pairs):
        raise ValueError("duplicate key")
    return node


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _load(text: str, path: str) -> Node:
    """The decoded JSON object; any error is a ``FormatError`` with its line and column."""
    try:
        tree = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        tree = None
    if not isinstance(tree, dict):
        parse_spans(text, path)  # raises the positioned error
        raise FormatError(path, 1, 1, "not a valid String Catalog")  # parse_spans always raises first
    return tree


def members(text: str, start: int) -> dict[str, Span]:
    """Spans of the members of the JSON object at ``start`` of valid JSON ``text``.

    Values are skipped by the C decoder (``raw_decode``), so that finding one entry of a 2 MB
    catalog costs about one ``json.loads``, not a pass of the (pure Python) span parser.
    """
    out: dict[str, Span] = {}
    i = skip_ws(text, start + 1)
    while text[i] == '"':
        key, j = scanstring(text, i + 1, True)
        value_start = skip_ws(text, skip_ws(text, j) + 1)  # past the ':'
        end = _DECODER.raw_decode(text, value_start)[1]
        out[key] = Span(i, value_start, end)
        i = skip_ws(text, end)
        if text[i] == ",":
            i = skip_ws(text, i + 1)
    return out


def _check_node(node: object, at: tuple[str, ...]) -> None:
    """A localization (or variation case, or substitution) must have the expected shapes."""
    if not isinstance(node, dict):
        raise _Bad(at, "expecting an object")
    unit = node.get("stringUnit")
    if unit is not None:
        if not isinstance(unit, dict) or not isinstance(unit.get("value"), str):
            raise _Bad((*at, "stringUnit"), 'a stringUnit must be an object with a string "value"')
        if not isinstance(unit.get("state", ""), str):
            raise _Bad((*at, "stringUnit", "state"), "a state must be a string")
    for name, sub in _object(node, "substitutions", at).items():
        _check_node(sub, (*at, "substitutions", name))
    for kind, cases in _object(node, "variations", at).items():
        if not isinstance(cases, dict):
            raise _Bad((*at, "variations", kind), "expecting an object of variation cases")
        for case, sub in cases.items():
            _check_node(sub, (*at, "variations", kind, case))


def _object(node: Node, name: str, at: tuple[str, ...]) -> Node:
    value = node.get(name, {})
    if not isinstance(value, dict):
        raise _Bad((*at, name), f'"{name}" must be an object')
    return value


def _check(tree: Node) -> None:
    """Raise ``_Bad`` unless ``tree`` is shaped like a String Catalog."""
    if not isinstance(tree.get("sourceLanguage"), str):
        raise _Bad(("sourceLanguage",) if "sourceLanguage" in tree else (), 'expecting a string "sourceLanguage"')
    for key, entry in _object(tree, "strings", ()).items():
        if not isinstance(entry, dict):
            raise _Bad(("strings", key), "expecting an object")
        for locale, node in _object(entry, "localizations", ("strings", key)).items():
            _check_node(node, ("strings", key, "localizations", locale))


def _where(text: str, path: tuple[str, ...]) -> tuple[int, int]:
    """Line and column of the value at ``path`` (the slow parser, only for error messages)."""
    parser = SpanParser(text)
    parser.document()
    while path and path not in parser.spans:
        path = path[:-1]
    return line_column(text, parser.spans[path].start if path in parser.spans else 0)


def _segment(kind: str, case: str) -> str:
    if kind == "plural":
        return "#" + case
    if kind == "device":
        return "@" + case
    return f"{kind}={case}"


def _json_path(segment: str) -> tuple[str, ...]:
    """Where a flat-key segment below a key goes in the localization's JSON."""
    if segment.startswith("#"):
        return ("variations", "plural", segment[1:])
    if segment.startswith("@"):
        return ("variations", "device", segment[1:])
    if segment.startswith("%#@") and segment.endswith("@") and len(segment) > 4:
        return ("substitutions", segment[3:-1])
    kind, equals, case = segment.partition("=")
    if equals and kind:
        return ("variations", kind, case)
    raise ValueError(f"{segment!r} is not a String Catalog plural (#one), device (@iphone) or substitution (%#@name@)")


def _leaves(node: Node, prefix: Sub = ()) -> Iterator[tuple[Sub, str]]:
    """The leaves of a localization, in the file's (sorted) order."""
    unit = node.get("stringUnit")
    if isinstance(unit, dict):
        yield prefix, unit["value"]
    for name, sub in node.get("substitutions", {}).items():
        yield from _leaves(sub, (*prefix, f"%#@{name}@"))
    for kind, cases in node.get("variations", {}).items():
        for case, sub in cases.items():
            yield from _leaves(sub, (*prefix, _segment(kind, case)))


def _entries(tree: Node, locale: str, source_language: str, *, implicit: bool) -> dict[str, Leaf]:
    """Flat entries of ``locale``; with ``implicit``, source-language keys without a localization too."""
    entries: dict[str, Leaf] = {}
    for key, entry in tree.get("strings", {}).items():
        if entry.get("shouldTranslate") is False:
            continue
        node = entry.get("localizations", {}).get(locale)
        if node is None:
            if implicit and locale == source_language:
                entries[keypaths.escape(key)] = key
            continue
        for sub, value in _leaves(node):
            entries[keypaths.join([key, *sub])] = value
    return entries


def _locale_key(tree: Node, wanted: str) -> str:
    """The file's spelling of ``wanted`` (``pt_BR`` finds ``pt-BR``); ``wanted`` if it has none."""
    spellings: set[str] = set()
    for entry in tree.get("strings", {}).values():
        spellings.update(entry.get("localizations", {}))
    if wanted in spellings:
        return wanted
    norm = wanted.replace("_", "-").casefold()
    return next((s for s in sorted(spellings) if s.replace("_", "-").casefold() == norm), wanted)


def _detect_style(text: str) -> Style:
    m = re.search(r"\{(\r?\n)([ \t]+)\"(?:[^\"\\]|\\.)*\"([ \t]*:[ \t]*)", text)
    if m is None:
        return Style()
    newline, indent, separator = m.group(1), m.group(2), m.group(3)
    empty = "{}" if re.search(r":\s*\{\}", text) and not re.search(r"\{\r?\n\r?\n", text) else "{" + newline * 2 + "}"
    return Style(indent=indent, key_separator=separator, newline=newline, empty_object=empty)


def dump(value: object, level: int, style: Style) -> str:
    """``value`` as Xcode writes it, for a value that starts ``level`` indents deep."""
    if isinstance(value, dict):
        if not value:
            return style.empty_object[:-1] + style.indent * level + "}" if style.empty_object != "{}" else "{}"
        inner = style.indent * (level + 1)
        members = [
            inner + json.dumps(k, ensure_ascii=False) + style.key_separator + dump(v, level + 1, style)
            for k, v in value.items()
        ]
        return "{" + style.newline + ("," + style.newline).join(members) + style.newline + style.indent * level + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = style.indent * (level + 1)
        items = [inner + dump(v, level + 1, style) for v in value]
        return "[" + style.newline + ("," + style.newline).join(items) + style.newline + style.indent * level + "]"
    return json.dumps(value, ensure_ascii=False)


def _with(node: Node, key: str, value: object) -> Node:
    """``node`` with ``key`` set: in place if present, else at its sorted position."""
    if key in node:
        return {k: (value if k == key else v) for k, v in node.items()}
    out: Node = {}
    for k, v in node.items():
        if key not in out and sort_key(key) < sort_key(k):
            out[key] = value
        out[k] = v
    out.setdefault(key, value)
    return out


def _sorted(node: Node) -> Node:
    return {k: node[k] for k in sorted(node, key=sort_key)}


def build(template: Node | None, leaves: Mapping[Sub, str], *, keep_states: bool) -> Node:
    """A localization holding ``leaves``, shaped like ``template`` (its other fields are kept).

    ``keep_states``: ``template`` is this locale's own localization, so a unit whose value does
    not change keeps its state; every other unit is ``translated``.
    """
    tmpl = template or {}
    node: Node = {k: v for k, v in tmpl.items() if k not in _STRUCTURE}
    if () in leaves:
        old = tmpl.get("stringUnit")
        unit: Node = dict(old) if isinstance(old, dict) else {}
        if not (keep_states and unit.get("value") == leaves[()] and "state" in unit):
            unit["state"] = "translated"
        unit["value"] = leaves[()]
        node["stringUnit"] = _sorted(unit)
    groups: dict[str, dict[Sub, str]] = {}
    for sub, value in leaves.items():
        if sub:
            groups.setdefault(sub[0], {})[sub[1:]] = value
    for segment, below in groups.items():
        where = _json_path(segment)
        container = node.setdefault(where[0], {})
        child_template = tmpl.get(where[0], {}).get(where[1])
        if where[0] == "substitutions":
            container[where[1]] = build(child_template, below, keep_states=keep_states)
        else:
            cases = container.setdefault(where[1], {})
            case_template = child_template.get(where[2]) if isinstance(child_template, dict) else None
            cases[where[2]] = build(case_template, below, keep_states=keep_states)
    for name in ("substitutions", "variations"):
        if name in node:
            node[name] = {k: _sorted(v) if name == "variations" else v for k, v in _sorted(node[name]).items()}
    return _sorted(node)


def _group(entries: Mapping[str, Leaf]) -> dict[str, dict[Sub, str]]:
    """Flat entries by catalog key: ``{key: {sub-path: value}}``."""
    groups: dict[str, dict[Sub, str]] = {}
    for flat, value in entries.items():
        key, *sub = keypaths.split(flat)
        groups.setdefault(key, {})[tuple(sub)] = leaf_text(value)
    return groups


class XcstringsFormat(Format):
    """Xcode 15+ String Catalogs."""

    name: ClassVar[str] = "xcstrings"
    extensions: ClassVar[tuple[str, ...]] = (".xcstrings",)
    multi_locale: ClassVar[bool] = True

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        text, bom = decode_utf8(data, path)
        tree = _load(text, path)
        try:
            _check(tree)
        except _Bad as e:
            line, column = _where(text, e.path)
            raise FormatError(path, line, column, e.detail) from None
        source_language = tree["sourceLanguage"]
        read = _locale_key(tree, locale or source_language)
        layout = CatalogLayout(text, bom, tree, read, source_language, _detect_style(text))
        entries = _entries(tree, read, source_language, implicit=True)
        return ParsedFile(entries=entries, raw=data, layout=layout)

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        if target is not None and same_entries(values, target.entries):
            return target.raw
        layout = _layout(target if target is not None else source)
        source_layout = _layout(source)
        writer = _Writer(layout, source_layout, _locale_key(layout.tree, locale) if locale else layout.locale)
        text = writer.write(_group(values))
        out = text.encode("utf-8", "backslashreplace")
        return UTF8_BOM + out if layout.bom else out


class _Writer:
    """Computes the edits that give one locale of a catalog its new values."""

    def __init__(self, layout: CatalogLayout, source_layout: CatalogLayout, locale: str) -> None:
        self.layout = layout
        self.source_layout = source_layout
        self.locale = locale
        self.strings: Node = layout.tree.get("strings", {})
        self._root: dict[str, Span] | None = None
        self._entries: dict[str, Span] | None = None

    @property
    def root(self) -> dict[str, Span]:
        """Spans of the top-level members (found on first use: only renders that change need them)."""
        if self._root is None:
            self._root = members(self.text, skip_ws(self.text, 0))
        return self._root

    @property
    def entries(self) -> dict[str, Span]:
        """Spans of the members of ``strings``, by catalog key."""
        if self._entries is None:
            strings = self.root.get("strings")
            self._entries = members(self.text, strings.start) if strings is not None else {}
        return self._entries

    def entry_spans(self, key: str) -> dict[tuple[str, ...], Span]:
        """Spans of every value inside the entry of ``key``, by path below the entry."""
        entry = self.entries[key]
        parser = SpanParser(self.text[entry.start : entry.end])
        parser.document()
        return {
            path: Span(s.key + entry.start, s.start + entry.start, s.end + entry.start)
            for path, s in parser.spans.items()
        }

    def write(self, desired: dict[str, dict[Sub, str]]) -> str:
        layout = self.layout
        current = _group(_entries(layout.tree, self.locale, layout.source_language, implicit=False))
        edits: list[tuple[int, int, int, str]] = []
        new_keys: dict[str, dict[Sub, str]] = {}
        for key in dict.fromkeys([*desired, *current]):
            want, have = desired.get(key, {}), current.get(key, {})
            if want == have or self._implicit(key, want):
                continue
            if key not in self.strings:
                if want:
                    new_keys[key] = want
                continue
            edits += self._splice(key, want, have) or [self._rewrite(key, want)]
        if new_keys:
            edits += self._insert(new_keys)
        return apply_edits(layout.text, edits)

    def _implicit(self, key: str, want: dict[Sub, str]) -> bool:
        """A source-language key without a localization whose value is still the key itself."""
        entry = self.strings.get(key)
        return (
            self.locale == self.layout.source_language
            and entry is not None
            and self.locale not in entry.get("localizations", {})
            and want == {(): key}
        )

    def _node(self, key: str, locale: str, tree: Node | None = None) -> Node | None:
        entry = (tree if tree is not None else self.layout.tree).get("strings", {}).get(key)
        node = entry.get("localizations", {}).get(locale) if isinstance(entry, dict) else None
        return node if isinstance(node, dict) else None

    def _splice(self, key: str, want: dict[Sub, str], have: dict[Sub, str]) -> list[tuple[int, int, int, str]]:
        """Edits replacing changed values in place; ``[]`` when the leaves differ (then rewrite)."""
        node = self._node(key, self.locale)
        if node is None or set(want) != set(have):
            return []
        edits = []
        spans = self.entry_spans(key)
        base = ("localizations", self.locale)
        for sub, value in want.items():
            if have[sub] == value:
                continue
            unit_path = base + tuple(p for segment in sub for p in _json_path(segment)) + ("stringUnit",)
            value_span = spans.get((*unit_path, "value"))
            state_span = spans.get((*unit_path, "state"))
            if value_span is None or state_span is None:
                return []
            edits.append((value_span.start, value_span.end, 0, json.dumps(value, ensure_ascii=False)))
            if self.text[state_span.start : state_span.end] != '"translated"':
                edits.append((state_span.start, state_span.end, 0, '"translated"'))
        return edits

    @property
    def text(self) -> str:
        return self.layout.text

    def _localized(self, entry: Node, key: str, want: dict[Sub, str]) -> Node:
        """``entry`` with this locale's localization replaced by ``want`` (removed if empty)."""
        localizations: Node = dict(entry.get("localizations", {}))
        if want:
            own = localizations.get(self.locale)
            template = own if own is not None else self._source_template(key)
            localizations = _with(localizations, self.locale, build(template, want, keep_states=own is not None))
        else:
            localizations.pop(self.locale, None)
        if localizations:
            return _with(entry, "localizations", localizations)
        return {k: v for k, v in entry.items() if k != "localizations"}

    def _source_template(self, key: str) -> Node | None:
        """The source language's localization of ``key``, the shape a new localization copies."""
        language = self.source_layout.source_language
        if self.locale == language:
            return None
        return self._node(key, language, self.source_layout.tree) or self._node(key, language)

    def _rewrite(self, key: str, want: dict[Sub, str]) -> tuple[int, int, int, str]:
        """Re-serialise the whole entry of ``key`` (its unchanged lines come out the same)."""
        span = self.entries[key]
        entry = self._localized(self.strings[key], key, want)
        return (span.start, span.end, 0, dump(entry, 2, self.layout.style))

    def _insert(self, new_keys: dict[str, dict[Sub, str]]) -> list[tuple[int, int, int, str]]:
        """Add entries for keys the file lacks, each at its sorted place among the existing keys."""
        style = self.layout.style
        source_strings = self.source_layout.tree.get("strings", {})
        entries = {
            key: self._localized(
                {k: v for k, v in source_strings.get(key, {}).items() if k != "localizations"}, key, want
            )
            for key, want in new_keys.items()
        }
        if not self.strings:
            strings: Node = {}
            for key in sorted(entries, key=sort_key):
                strings[key] = entries[key]
            if "strings" in self.root:
                span = self.root["strings"]
                return [(span.start, span.end, 0, dump(strings, 1, style))]
            start, end = skip_ws(self.text, 0), len(self.text.rstrip(" \t\r\n"))
            return [(start, end, 0, dump(_with(self.layout.tree, "strings", strings), 0, style))]
        existing = list(self.strings)  # file order: Xcode's, which sort_key approximates
        last = self.entries[existing[-1]].end
        edits = []
        for sequence, key in enumerate(sorted(entries, key=sort_key), start=1):
            member = json.dumps(key, ensure_ascii=False) + style.key_separator + dump(entries[key], 2, style)
            after = next((k for k in existing if sort_key(key) < sort_key(k)), None)
            if after is not None:
                at = self.entries[after].key
                edits.append((at, at, sequence, member + "," + style.newline + style.indent * 2))
            else:
                edits.append((last, last, sequence, "," + style.newline + style.indent * 2 + member))
        return edits


def _layout(parsed: ParsedFile) -> CatalogLayout:
    if isinstance(parsed.layout, CatalogLayout):
        return parsed.layout
    tree: Node = {"sourceLanguage": "en", "strings": {}, "version": "1.0"}
    return CatalogLayout(dump(tree, 0, Style()), False, tree, "en", "en", Style())
