"""Writing gettext PO files: edits to the scanned text, in the file's own wrapping and line endings.

``PoWriter`` turns a ``PoLayout`` (``daemon.formats._po_read``) into a file holding the new
values by editing only the fields that change, as ``gettext_po``'s docstring describes; new
strings are wrapped the way msgmerge wraps them (``field_lines``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from daemon import keypaths
from daemon.formats._po_read import (
    CONTEXT_SEPARATOR,
    Entry,
    Field,
    Line,
    PoLayout,
    entry_forms,
    fallback_value,
    header_fields,
    split_key,
)
from daemon.formats._splice import apply_ranked
from daemon.formats.base import Leaf

PLURAL_FORMS: dict[str, str] = {
    # GNU gettext's plural-table.c, for the header of a new target
    **dict.fromkeys(("ja", "ko", "vi", "zh", "th", "id", "ms", "km", "lo", "my"), "nplurals=1; plural=0;"),
    **dict.fromkeys(
        (
            "en",
            "de",
            "nl",
            "sv",
            "da",
            "no",
            "nb",
            "nn",
            "fo",
            "es",
            "pt",
            "it",
            "bg",
            "el",
            "fi",
            "et",
            "he",
            "eo",
            "hu",
            "tr",
            "ca",
            "eu",
            "gl",
            "af",
            "sq",
            "hy",
            "az",
            "ka",
            "kk",
            "ky",
        ),
        "nplurals=2; plural=(n != 1);",
    ),
    **dict.fromkeys(("fr", "pt_BR", "pt-BR", "oc", "fil", "tl"), "nplurals=2; plural=(n > 1);"),
    "lv": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n != 0 ? 1 : 2);",
    "ga": "nplurals=3; plural=n==1 ? 0 : n==2 ? 1 : 2;",
    "ro": "nplurals=3; plural=n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2;",
    "lt": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) ? 1 : 2);",
    **dict.fromkeys(
        ("ru", "uk", "be", "sr", "hr", "bs"),
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    ),
    **dict.fromkeys(("cs", "sk"), "nplurals=3; plural=(n==1) ? 0 : (n>=2 && n<=4) ? 1 : 2;"),
    "pl": "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "sl": "nplurals=4; plural=(n%100==1 ? 0 : n%100==2 ? 1 : n%100==3 || n%100==4 ? 2 : 3);",
    "ar": "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;",
}

_WRITE_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)")
_BLANK_LINE = re.compile(r"[ \t]*\r?\n")


# --- writing ---------------------------------------------------------------------------------


def escape(value: str) -> str:
    return _NEEDS_ESCAPE.sub(lambda m: _WRITE_ESCAPES.get(m.group(), f"\\{ord(m.group()):03o}"), value)


def _wrap(piece: str, width: int | None) -> list[str]:
    """Split an escaped piece into chunks of at most ``width - 2`` columns, after spaces."""
    if width is None or len(piece) + 2 <= width:
        return [piece]
    chunks: list[str] = []
    while len(piece) + 2 > width:
        cut = piece.rfind(" ", 0, width - 2)
        if cut <= 0:
            cut = piece.find(" ", width - 2)
            if cut < 0:
                break
        chunks.append(piece[: cut + 1])
        piece = piece[cut + 1 :]
    if piece:
        chunks.append(piece)
    return chunks


def field_lines(keyword: str, value: str, wrap: int | None) -> list[str]:
    """The lines of ``keyword "value"`` the way msgmerge writes them.

    One line when the value has no inner line break and fits; else ``keyword ""`` followed by
    one string per line of the value, each wrapped after spaces to ``wrap`` columns.
    """
    pieces = [escape(p) for p in re.findall(r"[^\n]*\n|[^\n]+", value)] or [""]
    single = f'{keyword} "{pieces[0]}"'
    if len(pieces) == 1 and (wrap is None or len(single) <= wrap):
        return [single]
    lines = [f'{keyword} ""']
    for piece in pieces:
        lines += [f'"{chunk}"' for chunk in _wrap(piece, wrap)]
    return lines


def _text_of(value: Leaf) -> str:
    """A leaf as msgstr text. Not ``_entries.leaf_text``: a boolean is spelled ``True``/``False`` here."""
    return value if isinstance(value, str) else "" if value is None else str(value)


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    rank: int = 0


class PoWriter:
    """Edits the layout file's text so that it holds ``values``."""

    def __init__(
        self, layout: PoLayout, values: Mapping[str, Leaf], source: PoLayout | None, new_file: bool, locale: str | None
    ) -> None:
        self.lay = layout
        self.text = layout.text
        self.source = source
        self.new_file = new_file
        self.locale = locale
        self.template = layout.template and not new_file
        self.edits: list[_Edit] = []
        self.wanted: dict[str, dict[int | None, str]] = {}
        for key, value in values.items():
            if value is None:
                continue
            entry_key, index = split_key(key)
            self.wanted.setdefault(entry_key, {})[index] = _text_of(value)
        self.in_source = source.by_key.keys() if source is not None else layout.by_key.keys()
        self.deleted: set[int] = set()
        header = header_fields(layout.header)
        self.nplurals = _nplurals(header.get("Plural-Forms", ""))

    def run(self) -> str:
        if self.new_file:
            self.new_header()
        for entry in self.lay.entries:
            if not entry.is_header:
                self.update(entry)
        self.insert_new()
        return self.apply()

    # existing entries

    def update(self, entry: Entry) -> None:
        wanted = self.wanted.get(entry.key)
        if wanted is not None and (None not in wanted) != (entry.msgid_plural is not None):
            self.delete(entry)  # singular became plural or back: written anew from the source
            return
        current = entry_forms(entry, self.template)
        if wanted is None:
            if current or self.new_file:
                self.untranslate(entry)
        elif wanted != current or self.new_file:
            self.write_forms(entry, wanted)

    def untranslate(self, entry: Entry) -> None:
        """Make a translated entry absent: fuzzy if the source still has it, else gone."""
        if self.new_file:
            self.write_forms(entry, {})
        elif self.template or entry.key not in self.in_source:
            self.delete(entry)
        elif not entry.fuzzy:
            self.set_fuzzy(entry)

    def write_forms(self, entry: Entry, wanted: Mapping[int | None, str]) -> None:
        """Write every msgstr of ``entry`` (forms missing from ``wanted`` become empty)."""
        msgstrs = entry.msgstrs
        if entry.msgid_plural is not None:
            least = self.nplurals if self.new_file and self.nplurals is not None else len(msgstrs)
            count = max([least, *(i + 1 for i in wanted if i is not None)])
            if count != len(msgstrs) or [f.index for f in msgstrs] != list(range(count)):
                self.replace_plural_block(entry, wanted, count)
            else:
                for f in msgstrs:
                    self.set_field(entry, f, wanted.get(f.index, ""))
        else:
            self.set_field(entry, msgstrs[0], wanted.get(None, ""))
        if entry.fuzzy and (wanted or self.new_file):
            self.clear_fuzzy(entry)

    def set_field(self, entry: Entry, f: Field, value: str) -> None:
        if self.template and not f.value and value == fallback_value(entry, f.index):
            value = ""  # a template's empty msgstr already reads as its msgid
        if value != f.value:
            self.edits.append(_Edit(f.start, f.end, f.newline.join(field_lines(f.keyword, value, self.lay.wrap))))

    def replace_plural_block(self, entry: Entry, wanted: Mapping[int | None, str], count: int) -> None:
        msgstrs = entry.msgstrs
        newline = msgstrs[0].newline
        lines: list[str] = []
        for index in range(count):
            lines += field_lines(f"msgstr[{index}]", wanted.get(index, ""), self.lay.wrap)
        self.edits.append(_Edit(msgstrs[0].start, msgstrs[-1].end, newline.join(lines)))

    def flag_lines(self, entry: Entry) -> Iterator[Line]:
        return (line for line in entry.comments if line.text.startswith("#,"))

    def clear_fuzzy(self, entry: Entry) -> None:
        """Drop the ``fuzzy`` flag and the ``#|`` previous strings that explained it."""
        for line in entry.comments:
            if line.text.startswith("#|"):
                self.edits.append(_Edit(line.start, line.end, ""))
        for line in self.flag_lines(entry):
            flags = [f.strip() for f in line.text[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
            if len(flags) == len([f for f in line.text[2:].split(",") if f.strip()]):
                continue
            if flags:
                self.edits.append(_Edit(line.start, line.start + len(line.text), "#, " + ", ".join(flags)))
            else:
                self.edits.append(_Edit(line.start, line.end, ""))

    def set_fuzzy(self, entry: Entry) -> None:
        line = next(self.flag_lines(entry), None)
        if line is not None:
            self.edits.append(_Edit(line.start, line.start + len(line.text), "#, fuzzy," + line.text[2:]))
            return
        previous = next((c for c in entry.comments if c.text.startswith("#|")), None)
        at = previous.start if previous is not None else self.line_start(entry.fields[0].start)
        self.edits.append(_Edit(at, at, "#, fuzzy" + entry.fields[0].newline))

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def delete(self, entry: Entry) -> None:
        """Remove an entry with its comments and one blank line next to it."""
        self.deleted.add(id(entry))
        start, end = entry.start, entry.end
        blank = _BLANK_LINE.match(self.text, end)
        if blank is not None:
            end = blank.end()
        elif start > 0:
            previous = self.line_start(start - 1)
            if not self.text[previous:start].strip():
                start = previous
        self.edits.append(_Edit(start, end, ""))

    # the header of a new target

    def new_header(self) -> None:
        header = self.lay.header
        fields = header_fields(header)
        updates: dict[str, str] = {}
        if self.locale:
            updates["Language"] = self.locale
            forms = PLURAL_FORMS.get(self.locale) or PLURAL_FORMS.get(re.split(r"[_@.-]", self.locale)[0])
            if forms is not None:
                updates["Plural-Forms"] = forms
                self.nplurals = _nplurals(forms)
        if "charset=CHARSET" in fields.get("Content-Type", ""):
            updates["Content-Type"] = fields["Content-Type"].replace("charset=CHARSET", "charset=UTF-8")
        if header is None:
            body = {"Language": self.locale or "", "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding": "8bit", **updates}  # fmt: skip
            lines = ['msgid ""', *field_lines("msgstr", _header_text(body), self.lay.wrap), ""]
            self.edits.append(_Edit(0, 0, self.lay.newline.join(lines) + self.lay.newline, rank=-1))
            return
        if header.fuzzy:
            self.clear_fuzzy(header)
        if updates and header.msgstrs:
            f = header.msgstrs[0]
            merged = dict(fields)
            for name, value in updates.items():
                merged[name] = value
            self.edits.append(
                _Edit(f.start, f.end, f.newline.join(field_lines("msgstr", _header_text(merged), self.lay.wrap)))
            )

    # new entries

    def insert_new(self) -> None:
        """New entries go after the nearest preceding entry in source order that the file has."""
        order = list(self.wanted)
        if self.source is not None:
            source_order = [e.key for e in self.source.entries if not e.is_header and e.key in self.wanted]
            order = list(dict.fromkeys([*source_order, *order]))
        alive = {e.key: e for e in self.lay.entries if id(e) not in self.deleted and not e.is_header}
        previous: Entry | None = None
        head: list[tuple[int, str]] = []
        for rank, key in enumerate(order):
            if key in alive:
                previous = alive[key]
            elif key not in self.lay.by_key or id(self.lay.by_key[key]) in self.deleted:
                if previous is not None:
                    self.insert(previous.end, self.lay.newline + self.entry_text(key), rank)
                else:
                    head.append((rank, key))
        following = next((alive[k] for k in order if k in alive), None)
        for rank, key in head:
            if following is not None:
                self.insert(following.start, self.entry_text(key) + self.lay.newline, rank)
            else:
                last = list(alive.values())[-1] if alive else self.lay.header
                at = last.end if last is not None else len(self.text)
                self.insert(at, (self.lay.newline if at else "") + self.entry_text(key), rank)

    def insert(self, at: int, text: str, rank: int) -> None:
        if at == len(self.text) and self.text and not self.text.endswith("\n"):
            text = self.lay.newline + text
        self.edits.append(_Edit(at, at, text, rank))

    def entry_text(self, key: str) -> str:
        """A new entry for ``key``: the source's comments and msgid lines, then the msgstr lines."""
        wanted = self.wanted[key]
        newline = self.lay.newline
        source = self.source.by_key.get(key) if self.source is not None else None
        lines: list[str] = []
        plural = None not in wanted
        if source is not None and (source.msgid_plural is not None) == plural:
            for line in source.comments:
                if line.text.startswith("#|") or line.text.startswith("#~"):
                    continue
                if line.text.startswith("#,"):
                    flags = [f.strip() for f in line.text[2:].split(",") if f.strip() and f.strip() != "fuzzy"]
                    if flags:
                        lines.append("#, " + ", ".join(flags))
                    continue
                lines.append(line.text)
            for f in source.fields:
                if not f.keyword.startswith("msgstr"):
                    lines += self.source_field_lines(f)
            msgid_plural = source.msgid_plural
        else:
            raw = keypaths.unescape(key)
            ctxt, sep, msgid = raw.partition(CONTEXT_SEPARATOR)
            if sep:
                lines += field_lines("msgctxt", ctxt, self.lay.wrap)
            else:
                msgid = raw
            lines += field_lines("msgid", msgid, self.lay.wrap)
            msgid_plural = msgid if plural else None
            if plural:
                lines += field_lines("msgid_plural", msgid, self.lay.wrap)
        if msgid_plural is None:
            lines += field_lines("msgstr", wanted.get(None, ""), self.lay.wrap)
        else:
            count = max([self.nplurals or 0, *(i + 1 for i in wanted if i is not None)])
            for index in range(count):
                lines += field_lines(f"msgstr[{index}]", wanted.get(index, ""), self.lay.wrap)
        return newline.join(lines) + newline

    def source_field_lines(self, f: Field) -> list[str]:
        """A field's lines exactly as the source file writes them."""
        assert self.source is not None
        start = self.source.text.rfind("\n", 0, f.start) + 1
        block = self.source.text[start : f.end]
        return [line.rstrip("\r") for line in block.split("\n")]

    def apply(self) -> str:
        return apply_ranked(self.text, ((e.start, e.end, e.rank, e.text) for e in self.edits))


def _header_text(fields: Mapping[str, str]) -> str:
    return "".join(f"{name}: {value}\n" for name, value in fields.items())


def _nplurals(plural_forms: str) -> int | None:
    match = _NPLURALS.search(plural_forms)
    return int(match.group(1)) if match else None
