"""A CMS source: entries found through the change feed, each one a document.

A document is one entry; its id is ``cms:<source name>/<entry id>`` so it can never be
mistaken for a file path. The sync engine reads and writes it through ``CmsDocumentIO``
like any file, so the planner, the stale-result guard and the manual-edit guard are the
same code: an editor's change to the French entry differs from what locsync last wrote
there, and is kept.

Own writes: the feed lists only the source locale, and our writes go to the target
locales, so they never look like new content. Where a CMS does touch the source entry
when a translation is written, the scan finds the same checksums and sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from daemon.atomic import FileChangedError, atomic_write, confined_path
from daemon.cms.cursor import Cursor
from daemon.cms.feed import FeedItem, HttpFeed
from daemon.cms.fields import EntryContent, payload, read_fields
from daemon.config import SourceConfig
from daemon.errors import EntryMissing
from daemon.formats.base import Leaf
from daemon.sources.document import Content
from daemon.state.store import StateStore

if TYPE_CHECKING:
    from daemon.cms.wagtail import WagtailFeed

PREFIX = "cms:"


class CmsSource:
    """One ``sources`` entry with a ``cms`` block."""

    def __init__(self, config: SourceConfig, feed: HttpFeed | WagtailFeed, root: Path | None = None) -> None:
        assert config.cms is not None
        self.config = config
        self.root = root
        self.cms = config.cms
        self.name = config.label
        self.feed = feed
        self.prefix = f"{PREFIX}{self.name}/"
        self.specs = self.cms.field_specs
        self.cursor_key = f"cms_cursor:{self.name}"

    def owns(self, document_id: str) -> bool:
        return document_id.startswith(self.prefix)

    def document(self, document_id: str) -> CmsDocumentIO:
        return CmsDocumentIO(self, document_id.removeprefix(self.prefix))

    def cursor(self, store: StateStore) -> Cursor:
        return Cursor.loads(store.get_meta(self.cursor_key))

    def save_cursor(self, store: StateStore, cursor: Cursor) -> None:
        store.set_meta(self.cursor_key, cursor.dumps())

    async def changed(self, store: StateStore) -> tuple[Cursor, list[FeedItem]]:
        """The entries changed since the last poll that were not handled yet, oldest first."""
        cursor = self.cursor(store)
        items = await self.feed.changes(self.config.source_locale, cursor.since(self.cms.overlap_seconds))
        return cursor, cursor.fresh(items)


class CmsDocumentIO:
    """One CMS entry and its localized versions (``DocumentIO``)."""

    rereads_target = False

    def __init__(self, source: CmsSource, entry_id: str) -> None:
        self.source = source
        self.entry_id = entry_id
        self.id = source.prefix + entry_id

    @property
    def source_locale(self) -> str:
        return self.source.config.source_locale

    @property
    def target_locales(self) -> Sequence[str]:
        return self.source.config.target_locales

    def shown(self, locale: str) -> str:
        return f"{self.source.name}/{self.entry_id} ({locale})"

    def commit_path(self, locale: str) -> str | None:
        mirror = self.source.cms.mirror
        if mirror is None or self.source.root is None:
            return None
        return confined_path(self.source.root, self._mirror_name(mirror, locale)).relative_to(self.source.root).as_posix()

    def _mirror_name(self, pattern: str, locale: str) -> str:
        # percent-encoded: an id never picks the folder, and two ids never share a file
        safe_id = quote(self.entry_id, safe="")
        if safe_id in (".", ".."):
            safe_id = safe_id.replace(".", "%2E")
        return pattern.replace("[locale]", locale).replace("{id}", safe_id)

    def _write_mirror(self, locale: str, values: dict[str, Leaf], source: Content) -> None:
        path = self.commit_path(locale)
        if path is None or self.source.root is None:
            return
        ordered = {key: values[key] for key in [*source.entries, *values] if key in values}
        data = (json.dumps(ordered, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        target = self.source.root / path
        try:
            if target.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)

    async def _read(self, locale: str, *, target: bool) -> Content | None:
        entry = await self.source.feed.read(self.entry_id, locale, target=target)
        if entry is None:
            return None
        entries, content = read_fields(entry, self.source.specs, self.shown(locale))
        return Content(entries, content)

    async def read_source(self) -> Content:
        content = await self._read(self.source_locale, target=False)
        if content is None:
            status = self.source.cms.read_status
            raise EntryMissing(self.shown(self.source_locale), None, None, f"no {status} version to translate")
        return content

    async def read_target(self, locale: str) -> Content | None:
        return await self._read(locale, target=True)

    async def write_target(
        self, locale: str, values: dict[str, Leaf], *, source: Content, target: Content | None
    ) -> bool:
        self._write_mirror(locale, values, source)
        if target is not None and values == target.entries:
            return False
        before: EntryContent | None = target.handle if target is not None else None
        fields = payload(values, self.source.specs, source=source.handle, target=before, shown=self.shown(locale))
        if not fields:
            return False
        # the CMS has no compare-and-set: look once more just before writing, so an editor's
        # save made while we merged is merged again instead of overwritten (the window that
        # remains is one round trip)
        now = await self.source.feed.read(self.entry_id, locale, target=True)
        if _stamp(now) != _stamp(before.entry if before is not None else None):
            raise FileChangedError(Path(self.shown(locale)))
        await self.source.feed.write(self.entry_id, locale, fields)
        return True


def _stamp(entry: dict[str, Any] | None) -> object:
    if entry is None:
        return None
    return entry.get("updatedAt", entry)


def open_cms_source(config: SourceConfig, base: Path, root: Path | None = None) -> CmsSource:
    """The source with its HTTP client; the API token comes from env, a file or a credential."""
    from daemon.secrets import load_secret

    cms = config.cms
    assert cms is not None
    token = load_secret(env=cms.api_token_env, file=cms.api_token_file, credential=cms.api_token_credential, base=base)
    feed: HttpFeed | WagtailFeed
    if cms.kind == "wagtail":
        from daemon.cms.wagtail import WagtailFeed  # httpx and the adapter only when configured

        feed = WagtailFeed(config.label, cms, token)
    else:
        feed = HttpFeed(config.label, cms, token)
    return CmsSource(config, feed, root)
