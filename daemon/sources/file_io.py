"""``DocumentIO`` for a file document: a format reads and renders, ``atomic_write`` writes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from daemon.errors import FormatError
from daemon.formats.base import Format, Leaf, ParsedFile
from daemon.sources.document import Content
from daemon.sources.files import FileDocument
from daemon.writeback import read_target, write_target


class FileDocumentIO:
    """One source file and its target files, through one format."""

    def __init__(self, doc: FileDocument, fmt: Format) -> None:
        self.doc = doc
        self.fmt = fmt
        self._relpaths: dict[str, str] = {}

    def relpath(self, locale: str) -> str:
        """The confined path of ``locale``'s file, resolved once per IO object (one scan or apply
        of this document): resolving walks every folder of the path with ``lstat``."""
        rel = self._relpaths.get(locale)
        if rel is None:
            rel = self._relpaths[locale] = self.doc.relpath_for(locale)
        return rel

    def path(self, locale: str) -> Path:
        return self.doc.root / self.relpath(locale)

    @property
    def id(self) -> str:
        return self.doc.id

    @property
    def source_locale(self) -> str:
        return self.doc.source.source_locale

    @property
    def target_locales(self) -> Sequence[str]:
        return self.doc.source.target_locales

    @property
    def rereads_target(self) -> bool:
        return self.fmt.multi_locale

    def shown(self, locale: str) -> str:
        return self.relpath(locale)

    def commit_path(self, locale: str) -> str | None:
        return self.relpath(locale)

    async def read_source(self) -> Content:
        locale = self.source_locale
        shown = self.shown(locale)
        try:
            data = self.path(locale).read_bytes()
        except OSError as exc:
            raise FormatError(shown, None, None, f"cannot read: {exc.strerror}") from exc
        parsed = self.fmt.parse(data, path=shown, locale=locale)
        return Content(parsed.entries, parsed)

    async def read_target(self, locale: str) -> Content | None:
        parsed = read_target(self.fmt, self.path(locale), self.shown(locale), locale)
        return None if parsed is None else Content(parsed.entries, parsed)

    async def write_target(
        self, locale: str, values: dict[str, Leaf], *, source: Content, target: Content | None
    ) -> bool:
        parsed_target: ParsedFile | None = target.handle if target is not None else None
        return write_target(
            self.fmt, self.path(locale), values, source=source.handle, target=parsed_target, locale=locale
        )
