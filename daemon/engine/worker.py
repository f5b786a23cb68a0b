"""The job worker: takes queued jobs, translates them, records the outcome.

One job per target locale, several at a time (``worker_concurrency``), each independent:
a failure in one locale never touches another (api-contracts §1.6). For every job that
reaches a terminal state the worker, in this order, stores the result together with its
webhook delivery (one transaction), tells WebSocket listeners (with the snapshot taken right
after the write, so each message describes the state it announces), announces
``group.completed`` when it was the group's last job, and wakes the deliverer.

Test knobs act here: ``pause_processing`` stops claiming (jobs stay ``queued``),
``latency_seconds`` delays every job, ``fail_locales`` and ``fail_rate`` (seeded RNG) turn
a job into a failure with an explanatory errorMessage.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import structlog

from daemon.engine.delivery import build_payload, webhook_id_for
from daemon.engine.events import GroupEvents
from daemon.engine.ids import iso_now
from daemon.engine.rollup import group_status, is_done, ws_snapshot
from daemon.engine.settings import EngineSettings, Knobs
from daemon.engine.store import EngineStore, JobRow, NewDelivery
from daemon.engine.translators import JobTranslator, TranslationError
from daemon.engine.waiting import wait_event

log = structlog.get_logger("locsync.engine")

IDLE_POLL_SECONDS = 5.0
"""A safety net only: a submission, a finished job and a knob change all wake the worker."""


class Worker:
    """Runs until cancelled; ``wake()`` after queueing jobs or changing knobs."""

    def __init__(
        self,
        *,
        store: EngineStore,
        settings: EngineSettings,
        knobs: Knobs,
        translator: JobTranslator,
        events: GroupEvents,
        rng: random.Random,
        on_delivery_queued: Callable[[], None],
    ) -> None:
        self._store = store
        self._settings = settings
        self._knobs = knobs
        self._translator = translator
        self._events = events
        self._rng = rng
        self._on_delivery_queued = on_delivery_queued
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                if not self._knobs.pause_processing:
                    free = self._settings.worker_concurrency - len(self._running)
                    for job in self._store.claim_queued(free):
                        task = asyncio.create_task(self._process(job), name=f"job {job.id}")
                        self._running.add(task)
                        task.add_done_callback(self._done)
                await wait_event(self._wake, IDLE_POLL_SECONDS)
        finally:
            tasks = list(self._running)
            for task in tasks:
                task.cancel()
            # Cancelled jobs stay 'processing' in the store and are requeued on the next start.
            await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _process(self, job: JobRow) -> None:
        group = self._store.get_group(job.group_id)
        if group is None:  # cannot happen with foreign keys on; nothing to do if it does
            return
        log.info("job_started", job_id=job.id, group_id=job.group_id, locale=job.target_locale)
        started_at = job.steps[0]["startedAt"] if job.steps else iso_now()
        output: Any = None
        warnings: list[dict[str, str]] = []
        error: str | None = None
        try:
            if self._knobs.latency_seconds > 0:
                await asyncio.sleep(self._knobs.latency_seconds)
            if job.target_locale in self._knobs.fail_locales:
                raise TranslationError(f"simulated failure for locale {job.target_locale} (fail_locales knob)")
            if self._knobs.fail_rate > 0 and self._rng.random() < self._knobs.fail_rate:
                raise TranslationError("simulated failure (fail_rate knob)")
            result = await self._translator.translate(
                group.request["data"],
                source_locale=group.source_locale,
                target_locale=job.target_locale,
                locked_keys=group.request.get("lockedKeys") or [],
            )
            output, warnings = result.output, [w.to_json() for w in result.warnings]
        except TranslationError as exc:
            error = str(exc)
        except Exception as exc:  # a bug must fail one job, not kill the worker
            log.exception("job_crashed", job_id=job.id)
            error = f"internal engine error: {type(exc).__name__}"
        status = "failed" if error is not None else "completed_with_warnings" if warnings else "completed"
        completed_at = iso_now()
        delivery = None
        if group.callback_url:
            payload = build_payload(
                job_id=job.id,
                group_id=group.id,
                source_locale=group.source_locale,
                target_locale=job.target_locale,
                output=output,
                error=error,
            )
            delivery = NewDelivery(webhook_id_for(job.id), group.callback_url, payload)
        finished = self._store.finish_job(
            job.id,
            status=status,
            output=output,
            warnings=warnings,
            steps=[
                {
                    "stage": "localize",
                    "status": "failed" if error is not None else "completed",
                    "startedAt": started_at,
                    "completedAt": completed_at,
                }
            ],
            error_message=error,
            completed_at=completed_at,
            delivery=delivery,
            now=time.time(),
        )
        if not finished:
            return
        if error is None:
            log.info("job_completed", job_id=job.id, locale=job.target_locale, status=status)
        else:
            log.warning("job_failed", job_id=job.id, locale=job.target_locale, error=error)
        self._announce(job, error)
        if delivery is not None:
            self._on_delivery_queued()

    def _announce(self, job: JobRow, error: str | None) -> None:
        jobs = self._store.group_jobs(job.group_id)
        snapshot = ws_snapshot(job.group_id, jobs)
        message: dict[str, Any] = {"type": "job.completed" if error is None else "job.failed", "jobId": job.id}
        message["locale"] = job.target_locale
        if error is not None:
            message["error"] = error
        message["snapshot"] = snapshot
        self._events.publish(job.group_id, message)
        if is_done(jobs):
            status = group_status(jobs)
            log.info("group_completed", group_id=job.group_id, status=status)
            self._events.publish(
                job.group_id,
                {"type": "group.completed", "groupId": job.group_id, "status": status, "snapshot": snapshot},
            )
