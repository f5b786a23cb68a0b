"""What the sync engine needs from a document, whatever holds it (files, a CMS).

The planner and the write-back guards only see flat ``key -> value`` entries. Everything
else (paths and formats, or a CMS's entries and its localized-entry API) hides behind
``DocumentIO``, so a file and a CMS entry go through the same scan, merge and guards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from daemon.formats.base import Leaf


@dataclass
class Content:
    """A document's entries in one locale, and what its owner needs to write it back.

    ``handle`` is private to the ``DocumentIO`` that produced it (the parsed file, the CMS entry).
    """

    entries: dict[str, Leaf]
    handle: Any = None


class DocumentIO(Protocol):
    """One source document and its translations, read and written through its owner."""

    @property
    def id(self) -> str: ...

    @property
    def source_locale(self) -> str: ...

    @property
    def target_locales(self) -> Sequence[str]: ...

    @property
    def rereads_target(self) -> bool:
        """True when writing one locale changes what another locale reads (one file for all locales)."""

    def shown(self, locale: str) -> str:
        """How errors and logs name this document's ``locale`` version (a path, an entry URL)."""

    def commit_path(self, locale: str) -> str | None:
        """The repository path to commit after writing ``locale``; None when nothing goes to git."""

    async def read_source(self) -> Content:
        """The source locale's entries; raises ``FormatError`` naming the document when unreadable."""

    async def read_target(self, locale: str) -> Content | None:
        """The target's entries, or None when that locale does not exist yet."""

    async def write_target(
        self, locale: str, values: dict[str, Leaf], *, source: Content, target: Content | None
    ) -> bool:
        """Write exactly ``values`` as the ``locale`` version; False when nothing would change.

        Raises ``daemon.atomic.FileChangedError`` when the target changed since ``target`` was
        read, so the caller can merge again instead of overwriting someone's edit.
        """
