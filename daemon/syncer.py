"""The sync engine: plan and execute, submit, receive, catch up, commit.

Each public coroutine is one idempotent step over the state database, so the daemon's
loops, ``sync --once`` and a restart after a crash all drive the same code. Nothing here
owns timing or signals; ``runtime.py`` decides when each step runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from daemon.atomic import FileChangedError, folder_syncs_deferred
from daemon.backoff import delay_for
from daemon.checksums import key_checksums
from daemon.config import LoadedConfig
from daemon.errors import (
    CmsError,
    DeletionGuardError,
    EntryMissing,
    FormatError,
    GitError,
    ProviderError,
    ProviderQuota,
)
from daemon.formats import get_format
from daemon.formats.base import Format
from daemon.gitcommit import CommitRequest, GitRepo
from daemon.idempotency import idempotency_key
from daemon.keyrules import KeyRules
from daemon.planner import DocumentPlan, LocaleInput, deletion_share, localized_checksums, plan_document
from daemon.plurals import expand_for
from daemon.providers.base import TERMINAL_OK, Provider, SubmitRequest, is_terminal
from daemon.sources.document import Content, DocumentIO
from daemon.sources.file_io import FileDocumentIO
from daemon.sources.files import FileDocument, FileSource
from daemon.state.store import JobRow, StateStore, Submission
from daemon.writeback import apply_local, merge_result

if TYPE_CHECKING:
    from daemon.cms.source import CmsSource

log = structlog.get_logger("locsync.sync")

SourceReads = dict[str, tuple[Content, dict[str, str]]]
"""Per apply pass: each document's source as read, and its keys' checksums."""

LIST_WALK_MAX_PAGES = 10
SUBMIT_CONCURRENCY = 8
"""Job groups in flight at once while submitting the outbox."""
APPLY_CHUNK = 64
"""Results written per pair of transactions; bounds how long the webhook writer waits for the lock."""
RACY_SECONDS = 1.0


@dataclass
class ScanReport:
    plans: list[DocumentPlan] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[DeletionGuardError] = field(default_factory=list)
    submitted_versions: list[tuple[str, int]] = field(default_factory=list)
    keep_plans: bool = True
    """False: ``plans`` stays empty (see ``Syncer.scan``)."""


SUBJECT_DOCUMENTS = 3
"""Documents named in a commit subject; more are counted (every one is in a trailer)."""


def _documents_shown(documents: list[str]) -> str:
    """``a, b, c`` or ``a, b and 198 more documents``: a cold sync commits hundreds at once."""
    if len(documents) <= SUBJECT_DOCUMENTS:
        return ", ".join(documents)
    shown = SUBJECT_DOCUMENTS - 1
    return f"{', '.join(documents[:shown])} and {len(documents) - shown} more documents"


@dataclass
class ProviderHealth:
    """What the outbox is waiting for, for ``status`` and logs."""

    blocked_until: float = 0.0
    blocks: int = 0
    """Quota answers so far: a success shows that the quota lifted only if no quota answer came
    after its request was sent (with submits in flight together, one may succeed after another's 429)."""
    last_error: str | None = None


class Syncer:
    def __init__(
        self,
        loaded: LoadedConfig,
        store: StateStore,
        provider: Provider,
        *,
        callback_url: str | None,
        git: GitRepo | None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.root = loaded.root
        self.store = store
        self.provider = provider
        self.callback_url = callback_url
        self.git = git
        self.clock = clock
        self.rng = rng or random.Random()
        # parallel to config.sources; a CMS source has an empty FileSource (it matches no file)
        self.sources = [FileSource(s, self.root) for s in self.config.sources]
        self.rules = [KeyRules(s.locked_keys, s.ignored_keys, s.preserved_keys) for s in self.config.sources]
        self._unapplied: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
        """``_unapplied_values`` as the current scan pass found them."""
        self.formats: list[Format] = [get_format(s.format) for s in self.config.sources]
        self.cms: dict[int, CmsSource] = {}
        if any(s.cms is not None for s in self.config.sources):
            from daemon.cms.source import open_cms_source  # the CMS clients only when one is configured

            self.cms = {
                index: open_cms_source(s, loaded.base, self.root)
                for index, s in enumerate(self.config.sources)
                if s.cms is not None
            }
        self.health = ProviderHealth()
        self._listing: dict[str, int] | None = None
        self._config_digests: dict[int, str] = {}

    async def aclose(self) -> None:
        for source in self.cms.values():
            await source.feed.aclose()

    # --- documents ----------------------------------------------------------------------

    def documents(self, *, refresh: bool = True) -> list[tuple[int, FileDocument]]:
        """Every document of every source; ``refresh=False`` reuses the last listing.

        Listing globs the repository, so hot paths (applying a result, the status line) use
        the listing of the last scan and only look again when a document is not in it. The
        listing keeps ids only (a dict: id -> source index); the daemon holds it for its whole
        life, and 10,000 document objects would cost it twice the memory.
        """
        if refresh or self._listing is None:
            found = [(index, doc) for index, source in enumerate(self.sources) for doc in source.documents()]
            self._listing = {doc.id: index for index, doc in found}
            return found
        return [(index, self._document(index, doc_id)) for doc_id, index in self._listing.items()]

    def document_count(self) -> int:
        """How many documents the last listing found (without listing again)."""
        if self._listing is None:
            self.documents()
        return len(self._listing or {})

    def _document(self, index: int, doc_id: str) -> FileDocument:
        source = self.sources[index]
        return FileDocument(doc_id, source.config, source.root)

    def find(self, document_id: str) -> tuple[int, FileDocument] | None:
        for refresh in (False, True):
            if refresh or self._listing is None:
                self.documents()
            index = (self._listing or {}).get(document_id)
            if index is not None:
                return index, self._document(index, document_id)
        return None

    def io(self, index: int, doc: FileDocument) -> FileDocumentIO:
        return FileDocumentIO(doc, self.formats[index])

    def find_io(self, document_id: str) -> tuple[int, DocumentIO] | None:
        """The document with this id, from a CMS source or from the files."""
        for index, cms in self.cms.items():
            if cms.owns(document_id):
                return index, cms.document(document_id)
        found = self.find(document_id)
        return None if found is None else (found[0], self.io(*found))

    # --- scan: plan and execute local changes, queue submissions ------------------------

    async def scan(
        self,
        only: set[tuple[int, str]] | None = None,
        *,
        allow_deletions: bool = False,
        dry_run: bool = False,
        keep_plans: bool = True,
        listing: list[tuple[int, FileDocument]] | None = None,
    ) -> ScanReport:
        """Plan and execute every (or ``only`` the) changed document(s).

        ``keep_plans=False`` (the daemon): the report keeps errors and submissions but not
        each document's plan. A start-up scan of 10,000 documents would otherwise hold every
        plan (checksums and a reason per key) until it ends, and the freed plans leave the
        allocator's arenas fragmented: the idle daemon stayed ~25 MB larger (bench/idle.py).

        ``listing``: the documents as the caller has just listed them (``sync --once`` lists
        once for its stats and its scan: ``fastpath.stats_and_listing``).
        """
        report = ScanReport(keep_plans=keep_plans)
        self._unapplied = self._unapplied_values()
        known = {} if dry_run else self.store.scan_fingerprints()
        done: dict[str, str] = {}
        for index, doc in self.documents() if listing is None else listing:
            if only is not None and (index, doc.id) not in only:
                continue
            io = self.io(index, doc)
            before = self._fingerprint(index, io)
            if before is not None and known.get(doc.id) == before:
                continue  # same files, same state as when a scan last found nothing left to do
            ok = await self._scan_guarded(index, io, report, allow_deletions=allow_deletions, dry_run=dry_run)
            after = self._fingerprint(index, io) if ok and not dry_run else None
            if after is not None and after == before:  # else a file changed while we read it (or we wrote it)
                done[doc.id] = after
        self.store.save_scan_fingerprints(done)
        if only is None:
            for index in self.cms:
                await self.poll_cms(index, report, allow_deletions=allow_deletions, dry_run=dry_run)
        return report

    def _unapplied_values(self) -> dict[tuple[str, str], dict[str, frozenset[str]]]:
        """Per document and locale, the values of results received and not yet applied.

        A crash between a chunk's file writes and its records leaves such a value in a target
        with no record of it: the scan must not take it for a person's edit. Usually empty."""
        values: dict[tuple[str, str], dict[str, set[str]]] = {}
        for job in self.store.jobs(states=("received",)):
            keys = values.setdefault((job.document, job.locale), {})
            for key, value in (job.result or {}).items():
                if isinstance(value, str):
                    keys.setdefault(key, set()).add(value)
        return {where: {key: frozenset(v) for key, v in keys.items()} for where, keys in values.items()}

    async def poll_cms(
        self, index: int, report: ScanReport | None = None, *, allow_deletions: bool = False, dry_run: bool = False
    ) -> ScanReport:
        """Scan the entries a CMS source's feed reports as changed; move its cursor past them.

        The cursor only moves past entries handled in full: a CMS error stops the poll, and the
        next one starts again from the first entry not handled.
        """
        if report is None:  # a poll of its own, not part of a scan
            report = ScanReport()
            self._unapplied = self._unapplied_values()
        source = self.cms[index]
        try:
            cursor, items = await source.changed(self.store)
        except CmsError as exc:
            report.errors.append(str(exc))
            log.warning("cms_feed_failed", source=source.name, error=str(exc), hint="retried at the next poll")
            return report
        from daemon.cms.feed import FeedItem

        listed = {item.id for item in items}
        # entries that failed last time first (an empty updated_at: they do not move the cursor)
        pending = [FeedItem(entry_id, "") for entry_id in cursor.retry if entry_id not in listed] + items
        cursor.retry = []
        for n, item in enumerate(pending):
            doc = source.document(source.prefix + item.id)
            try:
                ok = await self._scan_guarded(index, doc, report, allow_deletions=allow_deletions, dry_run=dry_run)
            except CmsError as exc:
                report.errors.append(str(exc))
                log.warning("cms_read_failed", document=doc.id, error=str(exc), hint="retried at the next poll")
                cursor.retry += [p.id for p in pending[n:] if not p.updated_at]
                break
            if not ok:
                cursor.retry.append(item.id)
            if item.updated_at:
                cursor.handled(item, source.cms.overlap_seconds)
        if pending and not dry_run:
            source.save_cursor(self.store, cursor)
        log.info("cms_polled", source=source.name, changed=len(items), retried=len(pending) - len(items),
                 cursor=cursor.position)
        return report

    def _fingerprint(self, index: int, doc: FileDocumentIO) -> str | None:
        """The stat of the document's files and its config, or None when it cannot be trusted.

        A file modified within the last ``RACY_SECONDS`` may be modified again within the same
        timestamp tick without its stat changing (git's "racy clean" problem): no fingerprint.
        """
        parts = [self._config_digest(index)]
        now = time.time()
        for locale in (doc.source_locale, *doc.target_locales):
            try:
                st = os.stat(doc.doc.lexical_path(locale))
            except FileNotFoundError:
                parts.append("-")
                continue
            except OSError:
                return None
            if now - st.st_mtime < RACY_SECONDS:
                return None
            parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}")
        # a digest, not the stat text: the start-up scan holds one per document (10,000 in a big
        # repository) in two dicts, and 24 characters instead of ~150 keep that peak small
        return hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()

    def _config_digest(self, index: int) -> str:
        if index not in self._config_digests:
            text = self.config.sources[index].model_dump_json() + f"|{self.config.sync.max_deletion_share}"
            self._config_digests[index] = hashlib.sha256(text.encode()).hexdigest()[:16]
        return self._config_digests[index]

    async def _scan_guarded(
        self, index: int, doc: DocumentIO, report: ScanReport, *, allow_deletions: bool, dry_run: bool
    ) -> bool:
        """Scan one document; report its problems instead of raising (except CMS transport errors).

        True when the document was scanned in full (nothing is left to retry).
        """
        structlog.contextvars.bind_contextvars(document=doc.id)
        try:
            for attempt in range(5):
                try:
                    await self._scan_document(index, doc, report, allow_deletions=allow_deletions, dry_run=dry_run)
                    return True
                except FileChangedError as exc:
                    log.info("target_changed_during_write", path=str(exc.path), attempt=attempt + 1)
                    report.plans = [p for p in report.plans if p.document != doc.id]
        except OSError as exc:
            message = f"{exc.filename or doc.id}: {exc.strerror or exc}"
            report.errors.append(message)
            log.error("target_write_failed", error=message, hint="check permissions and free space")
        except ValueError as exc:  # a target path that would leave the content root (confined_path)
            report.errors.append(f"{doc.id}: {exc}")
            log.error("target_path_refused", error=str(exc), hint="check the include pattern or the CMS mirror")
        except EntryMissing as exc:
            log.info("cms_entry_skipped", reason=exc.detail)
        except FormatError as exc:
            report.errors.append(str(exc))
            log.error("source_invalid", error=str(exc), hint="fix the file; nothing was written")
        except DeletionGuardError as exc:
            report.blocked.append(exc)
            log.error("deletion_guard_stopped", locale=exc.locale, deleted=exc.deleted, total=exc.total)
        finally:
            structlog.contextvars.unbind_contextvars("document")
        return False

    async def _scan_document(
        self, index: int, doc: DocumentIO, report: ScanReport, *, allow_deletions: bool, dry_run: bool
    ) -> None:
        source = await doc.read_source()
        targets: dict[str, Content | None] = {}
        inputs = []
        for locale in doc.target_locales:
            target = await doc.read_target(locale)
            targets[locale] = target
            records = self.store.locale_records(doc.id, locale)
            inputs.append(LocaleInput(locale, target.entries if target else None, records,
                                      self._unapplied.get((doc.id, locale), {})))
        previous = self.store.source_checksums(doc.id)
        plan = plan_document(doc.id, source.entries, previous, inputs, self.rules[index])
        if report.keep_plans:
            report.plans.append(plan)
        if not allow_deletions:
            for locale_plan in plan.locales:
                if len(locale_plan.delete) >= 2 and deletion_share(locale_plan) > self.config.sync.max_deletion_share:
                    raise DeletionGuardError(doc.id, locale_plan.locale, len(locale_plan.delete), locale_plan.target_size)
        if dry_run:
            return
        for locale_plan in plan.locales:
            if not locale_plan.has_local_changes:
                continue
            locale = locale_plan.locale
            target = targets[locale]
            if doc.rereads_target:  # the file also holds the locales written just before
                target = await doc.read_target(locale)
            values, written = apply_local(dict(target.entries) if target else {}, locale_plan.write, locale_plan.delete)
            # the commit intent is recorded before the write: a crash right after the write must
            # still lead to a commit, and a recorded intent with nothing to commit costs nothing
            commit_path = doc.commit_path(locale)
            if commit_path is not None and (locale_plan.write or locale_plan.delete):
                self.store.add_pending_commit(commit_path, doc.id, locale, None)
            if await doc.write_target(locale, values, source=source, target=target):
                log.info("target_written", locale=locale, locked=len(locale_plan.write), deleted=len(locale_plan.delete))
            for key, current in locale_plan.human.items():
                written[key] = (current, "human")
                log.warning("manual_edit_kept", locale=locale, key=key)
            for key, current in locale_plan.adopt.items():
                written[key] = (current, "adopted")
            sent = {k: plan.source_checksums[k] for k in [*locale_plan.write, *locale_plan.adopt]}
            with self.store.write():  # what the write did, in one transaction
                self.store.record_written(doc.id, locale, written, sent_checksums=sent)
                if locale_plan.delete:
                    self.store.forget_keys(doc.id, locale, locale_plan.delete)
        # the new version, its outbox row and the source snapshot it was planned from: one
        # transaction, and a crash leaves all three or none. Without an fsync of its own
        # (deferred_fsync; a cold sync queues 200 in a row): submit_pending puts them on disk
        # with one fsync before the provider hears of any, and until then a power cut only
        # takes them back to what the next scan plans again.
        with self.store.deferred_fsync(), self.store.write():
            self._queue_and_snapshot(doc, plan, previous, report)

    def _queue_and_snapshot(
        self, doc: DocumentIO, plan: DocumentPlan, previous: dict[str, str], report: ScanReport
    ) -> None:
        data = plan.data_to_send()
        if data:
            version = self.store.next_version(doc.id)
            request = SubmitRequest(
                source_locale=doc.source_locale,
                target_locales=tuple(plan.locales_to_send),
                data=data,
                idempotency_key="",
                engine_id=self.config.provider.engine_id,
            ).body()
            del request["idempotencyKey"]
            key = idempotency_key(doc.id, version, request)
            per_locale = {p.locale: p.send for p in plan.locales if p.send}
            self.store.add_submission(doc.id, version, key, request, per_locale)
            report.submitted_versions.append((doc.id, version))
            log.info("submission_queued", version=version, keys=len(data), locales=plan.locales_to_send)
        if plan.source_checksums != previous:
            self.store.replace_source_checksums(doc.id, plan.source_checksums)

    # --- outbox: submit queued groups ----------------------------------------------------

    async def submit_pending(self) -> float | None:
        """Submit due outbox rows; return seconds until the next retry is due (None: nothing waits).

        Up to ``SUBMIT_CONCURRENCY`` submissions are in flight at once: a cold sync queues one
        group per document, and one at a time spends its whole run waiting on round trips.
        Each keeps its own idempotency key, so concurrency cannot create duplicate work.
        """
        next_due: float | None = None
        due: list[Submission] = []
        for sub in self.store.pending_submissions():
            wait = sub.next_attempt_at - self.clock()
            if wait > 0:
                next_due = wait if next_due is None else min(next_due, wait)
            else:
                due.append(sub)
        if due:
            # the scan queued these without an fsync each (deferred_fsync): on disk before the
            # provider hears of them, so a power cut cannot forget a version that went out
            self.store.make_durable()
        queue = iter(due)

        async def worker() -> float | None:
            soonest: float | None = None
            for sub in queue:  # shared: each submission goes to exactly one worker
                blocked = self.health.blocked_until - self.clock()
                # a quota answer stops the rest of the pass; they keep their turn
                retry_in = blocked if blocked > 0 else await self._submit_one(sub)
                if retry_in is not None:
                    soonest = retry_in if soonest is None else min(soonest, retry_in)
            return soonest

        workers = [asyncio.ensure_future(worker()) for _ in range(min(SUBMIT_CONCURRENCY, len(due)))]
        try:
            results = await asyncio.gather(*workers)
        except BaseException:
            # a bug or a failing database in one worker: stop the others too, so that no
            # submission goes on in the background while the next pass picks the same rows
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        for soonest in results:
            if soonest is not None:
                next_due = soonest if next_due is None else min(next_due, soonest)
        return next_due

    async def _submit_one(self, sub: Submission) -> float | None:
        """Submit one outbox row; the seconds until its retry when it failed and will be retried."""
        body = sub.request
        request = SubmitRequest(
            source_locale=body["sourceLocale"],
            target_locales=tuple(body["targetLocales"]),
            data=body["data"],
            idempotency_key=sub.idempotency_key,
            callback_url=self.callback_url,
            engine_id=body.get("engineId"),
        )
        bound = {"document": sub.document, "version": sub.version, "idempotency_key": sub.idempotency_key}
        blocks_before = self.health.blocks
        try:
            group = await self.provider.submit(request)
        except ProviderError as exc:
            now = self.clock()
            delay = delay_for(exc, sub.attempts, rng=self.rng)
            final = delay is None
            self.store.submission_failed(sub.id, str(exc), now + (delay or 0), final=final)
            self.health.last_error = str(exc)
            if isinstance(exc, ProviderQuota):
                self.health.blocked_until = now + (delay or 0)
                self.health.blocks += 1
            log.warning(
                "submission_failed", **bound, status=exc.status, error=exc.detail,
                retry_in=None if final else round(delay or 0, 2), final=final,
            )
            return None if final else (delay or 0)
        if self.health.blocks == blocks_before:  # else a quota answer came while this one was in flight
            self.health.last_error = None
            self.health.blocked_until = 0.0
        self.store.submission_accepted(sub, group.group_id, [(j.job_id, j.locale, j.status) for j in group.jobs])
        log.info("job_group_submitted", **bound, group_id=group.group_id, locales=[j.locale for j in group.jobs])
        return None

    # --- inbox: stored webhook deliveries -----------------------------------------------

    async def process_inbox(self) -> int:
        """Turn stored deliveries into received job results; return how many were handled.

        One transaction for the whole pass: under a burst of deliveries a pass handles hundreds,
        and a commit each would cost more than receiving them (``bench/ingest.py``).
        """
        with self.store.write():
            return self._process_inbox()

    def _process_inbox(self) -> int:
        handled = 0
        pending_submissions = self.store.pending_submission_count() > 0
        for webhook_id, body in self.store.inbox_unprocessed():
            try:
                event = self.provider.parse_webhook(body)
            except ValueError as exc:
                self._set_aside(webhook_id, f"malformed payload: {exc}")
                continue
            job = self.store.job(event.job_id)
            if job is None:
                if pending_submissions:
                    continue  # the 202 may not be recorded yet; look again after submitting
                self._set_aside(webhook_id, f"unknown job {event.job_id[:64]}")
                continue
            if event.locale and event.locale != job.locale:
                self._set_aside(webhook_id, "locale does not match the job")
                continue
            if event.type == "translation.completed" and event.data is not None:
                self.store.job_received(job.job_id, "completed", event.data, None)
                outcome = "received"
            elif event.type == "translation.failed":
                self.store.job_received(job.job_id, "failed", None, str(event.error or "failed")[:2000])
                log.warning("job_failed", document=job.document, group_id=job.group_id, job_id=job.job_id,
                            locale=job.locale, error=event.error)
                outcome = "failed"
            else:
                self._set_aside(webhook_id, f"unsupported event type {event.type[:64]!r}")
                continue
            self.store.inbox_done(webhook_id, outcome)
            handled += 1
        return handled

    def _set_aside(self, webhook_id: str, reason: str) -> None:
        self.store.inbox_done(webhook_id, "set_aside: " + reason)
        log.warning("webhook_set_aside", webhook_id=webhook_id, reason=reason)

    # --- catch-up: read back what the provider finished ---------------------------------

    async def catch_up(self, *, walk_list: bool = False) -> int:
        """Fetch terminal results of open jobs from the provider; return how many arrived."""
        open_jobs = {job.job_id: job for job in self.store.jobs(states=("open",))}
        if not open_jobs:
            return 0
        arrived = 0
        if walk_list:
            seen = 0
            pages_budget = LIST_WALK_MAX_PAGES * 100
            async for ref in self.provider.list_jobs(limit=100):
                seen += 1
                job = open_jobs.get(ref.job_id)
                if job is not None and is_terminal(ref.status) and await self._fetch(job):
                    arrived += 1
                    del open_jobs[ref.job_id]
                if not open_jobs or seen >= pages_budget:
                    break
        for group_id in sorted({job.group_id for job in open_jobs.values()}):
            group = await self.provider.get_group(group_id)
            for ref in group.jobs:
                job = open_jobs.get(ref.job_id)
                if job is None:
                    continue
                if is_terminal(ref.status):
                    if await self._fetch(job):
                        arrived += 1
                elif ref.status != job.status:
                    self.store.job_status(job.job_id, ref.status)
        return arrived

    async def _fetch(self, job: JobRow) -> bool:
        result = await self.provider.get_job(job.job_id)
        if result.status in TERMINAL_OK and result.output is not None:
            return self.store.job_received(job.job_id, result.status, result.output, None)
        if is_terminal(result.status):
            log.warning("job_failed", document=job.document, group_id=job.group_id, job_id=job.job_id,
                        locale=job.locale, error=result.error)
            return self.store.job_received(job.job_id, result.status, None, result.error or "failed")
        return False

    # --- write-back ----------------------------------------------------------------------

    async def apply_received(self) -> int:
        """Write every received result into its target; return how many were applied.

        Per chunk of ``APPLY_CHUNK`` jobs, two transactions instead of two per job: the commit
        intents of the whole chunk first (durable before any of its files is written), then
        the chunk's records, after one fsync per folder written (``folder_syncs_deferred``).
        An intent whose job then writes nothing (a target that does not parse) is taken back
        with the records, so git never commits a file locsync did not write. A crash between
        a file and its record leaves the job "received", and applying it again finds the file
        already holding the result and records it as locsync's, even if the result has gone
        stale meanwhile (``merge_result``): else the next scan would take it for a person's
        edit. Only for file sources: a CMS write awaits the network, and no transaction stays
        open across that.
        """
        applied = 0
        sources: SourceReads = {}  # one read of the source per document and pass
        jobs = self.store.jobs(states=("received",))
        for start in range(0, len(jobs), APPLY_CHUNK):
            chunk = jobs[start:start + APPLY_CHUNK]
            found = {job.job_id: self.find_io(job.document) for job in chunk}
            paths, added = self._record_commit_intents(chunk, found)
            written: set[str] = set()
            failure: Exception | None = None
            files_only = not self.cms
            # exits right to left: the folders' fsyncs (once each) come before the records commit
            with (self.store.write() if files_only else contextlib.nullcontext(),
                  folder_syncs_deferred() if files_only else contextlib.nullcontext()):
                for job in chunk:
                    try:
                        with self.store.savepoint() if files_only else contextlib.nullcontext():
                            ok = await self._apply_logged(job, found[job.job_id], sources)
                    except Exception as exc:  # unforeseen: keep what the jobs before it did, then raise
                        failure = exc
                        break
                    if ok and job.job_id in paths:
                        written.add(paths[job.job_id])
                    applied += ok
                unused = added - written
                if unused:
                    self.store.drop_commit_intents(unused)
            if failure is not None:
                raise failure
        return applied

    def _record_commit_intents(
        self, jobs: list[JobRow], found: dict[str, tuple[int, DocumentIO] | None]
    ) -> tuple[dict[str, str], set[str]]:
        """Record, in one transaction, the path each job is about to write (for ``commit_pending``).

        Returns each job's path (job id -> path) and the paths whose row this added (a path
        already waiting for git keeps its row): those the chunk may take back."""
        paths: dict[str, str] = {}
        added: set[str] = set()
        with self.store.write():
            for job in jobs:
                doc = found[job.job_id]
                if doc is None or job.locale not in doc[1].target_locales:
                    continue
                try:
                    commit_path = doc[1].commit_path(job.locale)
                except ValueError:
                    continue  # a path outside the root: applying the job reports it
                if commit_path is None:
                    continue
                paths[job.job_id] = commit_path
                if self.store.add_commit_intent(commit_path, doc[1].id, job.locale, job.group_id):
                    added.add(commit_path)
        return paths, added

    async def _apply_logged(
        self, job: JobRow, found: tuple[int, DocumentIO] | None, sources: SourceReads
    ) -> bool:
        with structlog.contextvars.bound_contextvars(
            document=job.document, locale=job.locale, group_id=job.group_id, job_id=job.job_id
        ):
            try:
                return await self._apply_with_retry(job, found, sources)
            except EntryMissing as exc:
                log.warning("result_for_missing_entry", reason=exc.detail, hint="the entry is gone or unpublished")
                self.store.job_applied(job.job_id)
            except FormatError as exc:
                log.error("result_not_applied", error=str(exc), hint="fix the file; the result is kept and retried")
            except CmsError as exc:
                log.warning("result_not_applied", error=str(exc), hint="the CMS is unreachable; the result is kept and retried")
            except OSError as exc:
                log.error("target_write_failed", error=f"{exc.filename or ''}: {exc.strerror or exc}",
                          hint="check permissions and free space; the result is kept and retried")
            except ValueError as exc:  # the target's keys clash with the result's, or a path leaves the root
                log.error("result_not_applied", error=str(exc),
                          hint="fix the target file (or the include pattern); the result is kept and retried")
        return False

    async def _apply_with_retry(
        self, job: JobRow, found: tuple[int, DocumentIO] | None, sources: SourceReads, attempts: int = 5
    ) -> bool:
        """Apply, re-reading the target if someone saved it while we merged (their edit wins)."""
        for _attempt in range(attempts - 1):
            try:
                return await self._apply(job, found, sources)
            except FileChangedError as exc:
                log.info("target_changed_during_write", path=str(exc.path), retrying=True)
        return await self._apply(job, found, sources)

    async def _apply(self, job: JobRow, found: tuple[int, DocumentIO] | None, sources: SourceReads) -> bool:
        if found is None or job.locale not in found[1].target_locales:
            log.warning("result_for_unknown_target", hint="the document or locale is no longer configured")
            self.store.job_applied(job.job_id)
            return False
        index, doc = found
        # one read (and hashing) of the source per document and pass: its locales' results
        # usually arrive together
        read = sources.get(doc.id)
        if read is None:
            content = await doc.read_source()
            read = sources[doc.id] = (content, key_checksums(content.entries))
        source, source_checksums = read
        target = await doc.read_target(job.locale)
        localized = expand_for(source.entries, job.locale)
        checksums = localized_checksums(source.entries, source_checksums, localized)
        outcome = merge_result(
            target=target.entries if target else None,
            result=job.result or {},
            version=job.version,
            source=localized,
            source_checksums=checksums,
            records=self.store.locale_records(doc.id, job.locale),
            rules=self.rules[index],
        )
        # the commit intent is on disk already (``_record_commit_intents``)
        changed = await doc.write_target(job.locale, outcome.values, source=source, target=target)
        with self.store.write():  # the chunk's transaction, or this job's own (CMS sources)
            commit_path = doc.commit_path(job.locale)
            if commit_path is not None:  # this write's group and time on the row git will use
                self.store.add_pending_commit(commit_path, doc.id, job.locale, job.group_id)
            self.store.record_written(doc.id, job.locale, outcome.written, job_id=job.job_id, version=job.version)
            if outcome.resend:
                self.store.forget_sent(doc.id, job.locale, outcome.resend)
            self.store.job_applied(job.job_id)
        for key in outcome.kept_human:
            log.warning("manual_edit_kept", key=key)
        for key, detail in outcome.rejected.items():
            log.warning("placeholder_mismatch", key=key, detail=detail,
                        hint="the translation was not written; the previous value stays")
        log.info(
            "result_applied", version=job.version, written=len(outcome.written) - len(outcome.kept_human),
            stale=len(outcome.stale), kept_human=len(outcome.kept_human), rejected=len(outcome.rejected),
            file_changed=changed,
        )
        return True

    # --- git ------------------------------------------------------------------------------

    async def commit_pending(self) -> str | None:
        pending = self.store.pending_commits()
        if not pending or self.git is None:
            if pending and self.git is None:
                self.store.clear_pending_commits(pending)
            return None
        paths = tuple(sorted({row.path for row in pending}))
        documents = sorted({row.document for row in pending})
        locales = sorted({row.locale for row in pending})
        groups = sorted({row.group_id for row in pending if row.group_id})
        subject = self.config.git.message.format(document=_documents_shown(documents), locales=", ".join(locales))
        trailers: list[tuple[str, str]] = [("Locsync-Document", d) for d in documents]
        trailers += [("Locsync-Group", g) for g in groups]
        try:
            sha = await self.git.commit(CommitRequest(paths=paths, subject=subject, trailers=tuple(trailers)))
        except GitError as exc:
            log.error("git_commit_failed", command=exc.command, error=exc.stderr_tail,
                      hint="the files are written; locsync retries the commit")
            raise
        # a path written again while git ran keeps its row (newer written_at) for the next commit
        self.store.clear_pending_commits(pending)
        if sha:
            log.info("git_committed", commit=sha[:12], files=len(paths), groups=groups)
        return sha

    # --- progress ---------------------------------------------------------------------

    def open_work(self) -> int:
        """Submissions not yet accepted plus jobs not yet applied (0 means all caught up)."""
        return self.store.open_work_count()
