"""GNU gettext PO and POT files.

**Hand-written scanner and writer; polib is not used.** Measured on the corpus, polib
(``pofile(..., wrapwidth=0)`` then ``str()``) writes none of the 15 corpus files back byte for
byte: it joins the wrapped continuation lines of msgid/msgstr and of ``#:`` references, puts the
header's first field on the ``msgstr`` line, rewrites ``##`` comments as ``#``, reorders header
fields and loses CRLF and mixed line endings. It also reports no line or column for a broken
file and no positions to edit. The scanner here reads the file line by line, keeps the offset
of every field, and ``render`` edits only the ``msgstr`` fields that change (plus flags and new
or removed entries), so everything else (comments, references, wrapping, obsolete ``#~``
entries, ``#|`` previous strings, the header, each line's own line ending) stays byte for byte.

Keys and values:

- The key of an entry is its msgid; with a ``msgctxt`` it is ``<msgctxt>\\x04<msgid>``, the
  very key GNU gettext looks up in a ``.mo`` file (EOT cannot occur in a msgctxt, so the key is
  reversible). Either way it is a single key segment, escaped with ``keypaths.escape`` (a ``/``
  in a msgid becomes ``~1``). The header (msgid ``""``) is not an entry.
- Plural entries (``msgid_plural``) have one leaf per form: ``<key>/#0``, ``<key>/#1``, ... by
  the ``msgstr[n]`` index, which the file's ``Plural-Forms`` header maps to numbers; mapping
  indices to CLDR categories per locale is a later step's job.
- A template (a ``.pot``, or a PO whose header names no ``Language``, like Django's source
  ``en`` catalog) gives every entry a value: its msgstr if not empty, else the msgid (form 0)
  or msgid_plural (forms 1 and up). A translation gives only what is translated: an empty
  msgstr, and every msgstr of a ``fuzzy`` entry, is absent from the entries, so the daemon
  sends it for translation.

Writing into an existing file:

- A changed or new translation rewrites that msgstr field (wrapped at 79 columns after spaces,
  like msgmerge, when the file wraps; split only after ``\\n`` when it does not). Writing into a
  fuzzy entry removes its ``fuzzy`` flag and its ``#|`` previous-msgid lines.
- A translated key missing from the values becomes untranslated: its entry is marked fuzzy
  (the old text stays visible to translators, as msgmerge does) when the source still has the
  key, and is removed when the source no longer has it. A plural form missing while other
  forms are given is emptied. In a template a missing key's entry is removed.
- New keys become new entries at their source position (after the nearest preceding source
  entry the file has, else before the next one, else after the last entry), with the source
  entry's extracted comments, references and flags (minus ``fuzzy``).
- The header is left alone: no ``PO-Revision-Date`` churn, so an unchanged catalog stays
  unchanged.

Values are strings: ``None`` counts as absent, other leaves are written as their text, and an
empty string is an untranslated msgstr (gettext has no way to say "translated as empty").
Existing entries never move, even where the target's order differs from the source's.

A new target (no target file yet) is the source text with each msgstr replaced by the value or
emptied, the header's ``fuzzy`` flag removed, ``Language`` set to the locale, ``charset=CHARSET``
made ``UTF-8`` and, for the languages in ``PLURAL_FORMS`` (GNU gettext's table, in
``daemon.formats._po_write``), ``Plural-Forms`` set so that plural entries get the locale's
number of ``msgstr[n]``.

Files are decoded with the header's charset (UTF-8 when absent or ``CHARSET``); a UTF-8 BOM
is kept.

The scanner lives in ``daemon.formats._po_read``, the writer in ``daemon.formats._po_write``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from daemon.formats._entries import same_entries
from daemon.formats._po_read import PoLayout, po_entries, read_po
from daemon.formats._po_write import PoWriter
from daemon.formats._text import UTF8_BOM
from daemon.formats.base import Format, Leaf, ParsedFile


class GettextPoFormat(Format):
    """GNU gettext catalogs: ``.po`` translations and ``.pot`` templates."""

    name: ClassVar[str] = "po"
    extensions: ClassVar[tuple[str, ...]] = (".po", ".pot")

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        layout = read_po(data, path)
        return ParsedFile(entries=po_entries(layout), raw=data, layout=layout)

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
        layout_file = target if target is not None else source
        layout = layout_file.layout
        if not isinstance(layout, PoLayout):
            layout = read_po(b"", "new.po")
        source_layout = source.layout if isinstance(source.layout, PoLayout) else None
        text = PoWriter(layout, values, source_layout, target is None, locale).run()
        try:
            out = text.encode(layout.encoding)
        except UnicodeEncodeError as e:
            raise ValueError(f"{e.object[e.start : e.end]!r} cannot be written in {layout.encoding}") from None
        return UTF8_BOM + out if layout.bom else out
