"""File sources: documents found by include patterns with a ``[locale]`` placeholder.

A document's id is its include match with the locale put back as ``[locale]``
(``locales/[locale].json``), so the id is the same whichever locale you look at and a
target path is the id with the target locale filled in. Paths are always confined to
the content root: a locale code or pattern can never reach outside it.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.atomic import confined_path, confined_relpath, is_temp_file
from daemon.config import LOCALE_PLACEHOLDER, SourceConfig

if TYPE_CHECKING:
    import watchfiles


@dataclass(frozen=True, slots=True)
class FileDocument:
    """One source file and the target files derived from it.

    Slotted: the daemon keeps one per source file for its whole life (10,000 in a big
    repository), and an instance ``__dict__`` would double what each one costs.
    """

    id: str
    source: SourceConfig
    root: Path

    def path_for(self, locale: str) -> Path:
        spelled = self.source.path_locales.get(locale, locale)
        return confined_path(self.root, fill(self.id, spelled))

    def relpath_for(self, locale: str) -> str:
        spelled = self.source.path_locales.get(locale, locale)
        return confined_relpath(self.root, fill(self.id, spelled))

    def lexical_path(self, locale: str) -> str:
        """``root/<filled id>`` without resolving symlinks or checking confinement: for ``stat``
        only (which follows links anyway), where resolving every folder of every path with
        ``lstat`` would cost more than the stat itself."""
        spelled = self.source.path_locales.get(locale, locale)
        return os.path.join(self.root, fill(self.id, spelled))

    @property
    def source_path(self) -> Path:
        return self.path_for(self.source.source_locale)


_SEPARATORS = "-_."


def fill(pattern: str, spelled: str) -> str:
    """``pattern`` with ``[locale]`` spelled out; an empty spelling also drops the separator
    before it, so ``res/values-[locale]/strings.xml`` names Android's default ``res/values/``
    and ``messages_[locale].properties`` Java's default ``messages.properties``."""
    if spelled == "":
        pattern = re.sub(r"[-_.]?\[locale\]", "", pattern)
    return pattern.replace(LOCALE_PLACEHOLDER, spelled)


def _pattern_regex(pattern: str, spelled: str) -> tuple[re.Pattern[str], str]:
    """A regex matching the source files of ``pattern``, and the separator an empty spelling dropped."""
    dropped = ""
    if spelled == "":
        index = pattern.find(LOCALE_PLACEHOLDER)
        if index > 0 and pattern[index - 1] in _SEPARATORS:
            dropped = pattern[index - 1]
            pattern = pattern[: index - 1] + pattern[index:]
    # "**/" is zero or more folders, as in Path.glob: "locales/**/[locale].json" finds
    # locales/en.json as well as locales/app/en.json
    parts = re.split(r"(\[locale\]|\*\*/|\*\*|\*)", pattern)
    out = []
    for part in parts:
        if part == LOCALE_PLACEHOLDER:
            out.append(f"(?P<locale>{re.escape(spelled)})")
        elif part == "**/":
            out.append("(?:.*/)?")
        elif part == "**":
            out.append(".*")
        elif part == "*":
            out.append("[^/]*")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$"), dropped


class FileSource:
    """Finds the documents of one ``sources`` entry and watches their source files."""

    def __init__(self, config: SourceConfig, root: Path) -> None:
        self.config = config
        self.root = root
        spelled = config.path_locales.get(config.source_locale, config.source_locale)
        self._spelled_source = spelled
        self._regexes = [_pattern_regex(p, spelled) for p in config.include]
        root_text = os.fspath(root)
        self._root_prefix = root_text if root_text.endswith(os.sep) else root_text + os.sep

    def documents(self) -> list[FileDocument]:
        found: dict[str, FileDocument] = {}
        for pattern in self.config.include:
            glob = fill(pattern, self._spelled_source)
            for path in sorted(self.root.glob(glob)):
                if path.is_file() and not is_temp_file(path):
                    doc_id = self.document_id(path)
                    if doc_id is not None:
                        found.setdefault(doc_id, FileDocument(doc_id, self.config, self.root))
        return list(found.values())

    def document_id(self, path: Path) -> str | None:
        """The id of the document whose source file is ``path``, or None if it is not one.

        An absolute path counts once its symlinks are resolved and it is inside the root.
        Strings and ``os.path.realpath``, not ``Path.resolve``: this runs for every file a
        scan lists and every change the watcher sees.
        """
        text = os.fspath(path)
        if os.path.isabs(text):
            real = os.path.realpath(text)
            if not real.startswith(self._root_prefix):
                return None
            rel = real[len(self._root_prefix):]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
        else:
            rel = Path(text).as_posix()
        for regex, dropped in self._regexes:
            match = regex.match(rel)
            if match:
                if "locale" not in regex.groupindex:
                    return rel  # one file for every locale (multi-locale formats)
                start, end = match.span("locale")
                return rel[:start] + dropped + LOCALE_PLACEHOLDER + rel[end:]
        return None

    def watch_dirs(self) -> list[Path]:
        """The folders to watch: the fixed prefix of each include pattern."""
        dirs = []
        for pattern in self.config.include:
            prefix = []
            for part in Path(pattern).parts[:-1]:
                if LOCALE_PLACEHOLDER in part or "*" in part:
                    break
                prefix.append(part)
            folder = self.root.joinpath(*prefix)
            dirs.append(folder if folder.is_dir() else self.root)
        return dirs


PROBE_NAME = ".locsync-watch-probe"
SETTLE_MS = 10


def watch_roots(sources: list[FileSource]) -> list[Path]:
    return sorted({d for source in sources for d in source.watch_dirs()})


async def watch_documents(
    sources: list[FileSource], *, debounce_ms: int, stop: asyncio.Event, live: asyncio.Event | None = None
) -> AsyncIterator[set[tuple[int, str]]]:
    """Yield sets of (source index, document id) whose source file changed on disk.

    ``live`` is set once the watcher has seen a probe file (see ``prove_watching``), which
    proves that changes from then on are caught: a scan started after that misses nothing.
    """
    import watchfiles  # only the daemon watches; sync --once never needs the Rust notifier

    dirs = watch_roots(sources)

    def wanted(_change: watchfiles.Change, path: str) -> bool:
        candidate = Path(path)
        if candidate.name == PROBE_NAME:
            if live is not None:
                live.set()
            return False
        if is_temp_file(candidate):
            return False
        return any(source.document_id(candidate) is not None for source in sources)

    async for changes in watchfiles.awatch(
        # step: a batch is yielded once SETTLE_MS pass without another change (an editor's save is
        # a burst of events within a few ms); debounce: the longest a stream of changes is held
        *dirs, watch_filter=wanted, debounce=max(debounce_ms, 1), step=min(SETTLE_MS, max(debounce_ms, 1)),
        stop_event=stop, recursive=True,
    ):
        touched: set[tuple[int, str]] = set()
        for _change, path in changes:
            for index, source in enumerate(sources):
                doc_id = source.document_id(Path(path))
                if doc_id is not None:
                    touched.add((index, doc_id))
        if touched:
            yield touched


async def prove_watching(sources: list[FileSource], live: asyncio.Event, *, debounce_ms: int) -> bool:
    """Touch a probe file until the watcher reports it; False if it never does (then we poll)."""
    roots = watch_roots(sources)
    wait = max(debounce_ms, 50) / 1000 + 0.5
    for root in roots:  # a probe left behind by a killed daemon must not count as proof
        (root / PROBE_NAME).unlink(missing_ok=True)
    try:
        for _attempt in range(20):
            for root in roots:
                (root / PROBE_NAME).write_bytes(b"")
            try:
                await asyncio.wait_for(live.wait(), wait)
                return True
            except TimeoutError:
                continue
        return False
    finally:
        for root in roots:
            (root / PROBE_NAME).unlink(missing_ok=True)
