"""The interface every file format implements.

A format owns layout only: how a file's bytes become an ordered mapping of flat keys
to leaf values, and how such a mapping becomes bytes again in the file's own style.
Policy (which keys to send, keep, delete or protect) belongs to the planner and the
write-back, never to a format.

Keys are ``/``-joined paths through nested objects (``checkout/button/label``); a
``/`` or ``~`` inside one object key is escaped JSON-Pointer style (``~1`` and ``~0``),
see ``daemon.keypaths``. Array items use their index as the segment (``steps/0``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

Leaf = str | int | float | bool | None
"""A value at the end of a key path. Only strings are translated; the rest pass through."""


@dataclass
class ParsedFile:
    """One parsed file: its entries in file order plus whatever the format needs to re-render it.

    ``raw`` is the exact bytes read, so that rendering an unchanged mapping can return them as is.
    ``layout`` is private to the format that produced it.
    """

    entries: dict[str, Leaf]
    raw: bytes
    layout: Any = field(default=None, repr=False)


class Format(ABC):
    """A translation file format. Subclasses are registered by ``name`` in ``daemon.formats``."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    multi_locale: ClassVar[bool] = False
    """One file holds every locale (String Catalogs): include patterns need no ``[locale]``."""

    @abstractmethod
    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        """Parse ``data`` read from ``path``, the file of ``locale`` (None when unknown).

        Formats whose files name their locale (a Rails YAML root key, an XLIFF
        ``target-language``) or hold several locales (String Catalogs) use ``locale``;
        the others ignore it. Raises only ``daemon.errors.FormatError`` naming ``path``,
        the line and the column.
        """

    @abstractmethod
    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        """Return the bytes of a target file whose entries are exactly ``values``.

        Keys are ordered as in ``source`` first, then as in ``target`` for keys only the target
        has, then as given. Layout (indentation, trailing newline, nesting) follows ``target``
        when it exists, else ``source``. When ``target`` already holds exactly ``values`` in that
        order, the result is ``target.raw`` byte for byte. ``locale`` is the target's locale,
        for formats that write it into the file (a new target's header or root key).
        """
