"""Read-only views for the CLI: ``plan``, ``status``, ``why`` and ``check``.

These read the state database and the files; they never write a target file or call
the provider (except ``check``), so they are safe to run while the daemon is up.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

from daemon.checksums import value_hash
from daemon.config import LoadedConfig, ProviderConfig
from daemon.errors import ProviderError
from daemon.providers.base import GroupRef, JobRef, JobResult, Provider, SubmitRequest, WebhookEvent
from daemon.secrets import Secret
from daemon.state.store import StateStore
from daemon.syncer import Syncer
from daemon.writeback import read_target


class OfflineProvider(Provider):
    """Stands in for the provider where a command must not reach it."""

    name: ClassVar[str] = "offline"

    @classmethod
    def from_config(cls, config: ProviderConfig, api_key: Secret) -> OfflineProvider:
        return cls()

    def _refuse(self) -> ProviderError:
        return ProviderError(self.name, None, "this command does not contact the provider")

    async def submit(self, request: SubmitRequest) -> GroupRef:
        raise self._refuse()

    async def get_group(self, group_id: str) -> GroupRef:
        raise self._refuse()

    async def get_job(self, job_id: str) -> JobResult:
        raise self._refuse()

    async def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        raise self._refuse()
        yield  # pragma: no cover

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        raise ValueError("offline")

    async def check(self) -> None:
        raise self._refuse()

    async def aclose(self) -> None:
        return None


def _offline_syncer(loaded: LoadedConfig) -> Syncer:
    return Syncer(loaded, StateStore(loaded.state_path), OfflineProvider(), callback_url=None, git=None)


def plan_report(loaded: LoadedConfig) -> dict[str, Any]:
    import asyncio

    syncer = _offline_syncer(loaded)
    try:
        report = asyncio.run(syncer.scan(dry_run=True))
    finally:
        syncer.store.close()
    return {
        "errors": report.errors + [str(b) for b in report.blocked],
        "documents": [
            {
                "document": plan.document,
                "locales": [
                    {
                        "locale": lp.locale,
                        "send": sorted(lp.send),
                        "write": sorted(lp.write),
                        "delete": sorted(lp.delete),
                        "reasons": lp.reasons,
                    }
                    for lp in plan.locales
                ],
            }
            for plan in report.plans
        ],
    }


def status_report(loaded: LoadedConfig) -> dict[str, Any]:
    syncer = _offline_syncer(loaded)
    store = syncer.store
    try:
        documents = []
        known = [(doc.id, doc.source.target_locales) for _index, doc in syncer.documents()]
        for cms in syncer.cms.values():  # entries are known from the state, not listed from the CMS
            known += [(doc_id, cms.config.target_locales) for doc_id in store.documents_with_prefix(cms.prefix)]
        for doc_id, target_locales in known:
            latest = {job.locale: job for job in store.jobs(document=doc_id)}
            locales: dict[str, dict[str, Any]] = {}
            for locale in target_locales:
                job = latest.get(locale)
                if job is None:
                    locales[locale] = {"state": "up to date" if store.locale_records(doc_id, locale) else "never synced"}
                elif job.state == "applied":
                    locales[locale] = {"state": "done", "version": job.version, "group_id": job.group_id}
                elif job.state == "failed":
                    locales[locale] = {"state": "failed", "version": job.version, "error": job.error}
                else:
                    locales[locale] = {"state": f"in flight ({job.status})", "version": job.version,
                                       "group_id": job.group_id}
            for sub in store.pending_submissions():
                if sub.document == doc_id:
                    for locale in sub.request.get("targetLocales", []):
                        locales[locale] = {"state": "queued for submission", "version": sub.version}
            ready = sum(1 for info in locales.values() if info["state"] in ("done", "up to date"))
            documents.append({"document": doc_id, "ready": ready, "total": len(locales), "locales": locales})
        waiting = []
        now = time.time()
        for sub in store.pending_submissions():
            if sub.last_error:
                retry = max(0.0, sub.next_attempt_at - now)
                waiting.append(f"{sub.document} v{sub.version}: {sub.last_error} (retry in {retry:.0f}s)")
        for sub in store.submissions():
            if sub.state == "rejected":
                waiting.append(f"{sub.document} v{sub.version}: rejected: {sub.last_error}")
        return {"documents": documents, "waiting": waiting, "pending_commits": len(store.pending_commits())}
    finally:
        store.close()


def why_report(loaded: LoadedConfig, file: str, key: str) -> str:
    syncer = _offline_syncer(loaded)
    try:
        wanted = Path(file).resolve() if Path(file).is_absolute() else (Path.cwd() / file).resolve()
        for index, doc in syncer.documents():
            for locale in doc.source.target_locales:
                if doc.path_for(locale) != wanted:
                    continue
                record = syncer.store.locale_record(doc.id, locale, key)
                target = read_target(syncer.formats[index], wanted, doc.relpath_for(locale), locale)
                lines = [f"{doc.relpath_for(locale)} {key}"]
                if target is not None and key in target.entries:
                    lines.append(f"  value: {target.entries[key]!r}")
                else:
                    lines.append("  value: (absent)")
                if record is None:
                    lines.append("  provenance: unknown (locsync has no record of this key)")
                    return "\n".join(lines)
                lines.append(f"  provenance: {record.provenance or 'sent, not written yet'}")
                if record.job_id:
                    lines.append(f"  job: {record.job_id} (version {record.written_version})")
                if record.sent_version:
                    lines.append(f"  last sent in version {record.sent_version}")
                if target is not None and key in target.entries and record.written_hash:
                    same = value_hash(target.entries[key]) == record.written_hash
                    lines.append("  file matches what locsync recorded" if same else "  edited since locsync wrote it")
                return "\n".join(lines)
        return f"{file} is not a target file of any configured source"
    finally:
        syncer.store.close()


async def check_provider(loaded: LoadedConfig) -> str:
    if loaded.config.provider.kind == "embedded":
        return "provider: embedded reference engine (runs inside locsync; nothing to reach)"
    from daemon.runtime import wired

    async with wired(loaded) as wiring:
        await wiring.provider.check()
        mode = "polling (no https public URL)" if wiring.polling else "webhooks"
        return f"provider: {loaded.config.provider.base_url} reachable, API key accepted; mode: {mode}"
