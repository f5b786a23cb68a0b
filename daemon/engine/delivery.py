"""Webhook delivery: the outbox worker that POSTs job results to callback URLs.

Deliveries are rows in the store (written with the job's completion), so they survive a
restart. Each message has a stable ``webhook-id`` (``msg_<jobId>``) across all its attempts,
which is what receivers dedupe on, and is signed afresh at every attempt with the current
time (Standard Webhooks, api-contracts §1.9), so a retry an hour later is not rejected as a
replay. Only a 2xx is success; anything else (3xx included: redirects are not followed)
is retried on the ``delivery_retry_delays`` schedule, then given up.

Each attempt runs in its own task, so one slow or hanging receiver never holds up the
others. The test knobs act here: ``pause_deliveries`` holds messages (they stay pending
and go out when unpaused), ``reorder_jitter_seconds`` delays each attempt by a random
amount so messages arrive out of order, ``duplicate_rate`` sends a delivered message a
second time with the same webhook-id.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx
import structlog

from daemon.engine.settings import EngineSettings, Knobs
from daemon.engine.store import DeliveryRow, EngineStore
from daemon.engine.waiting import wait_event
from daemon.webhooks.signatures import signed_headers

log = structlog.get_logger("locsync.engine")

IDLE_POLL_SECONDS = 5.0
"""A safety net only: new deliveries wake the loop, and a retry's due time sets the wait."""
DELIVERY_CONNECTIONS = 16
"""Deliveries in flight per receiver origin, over connections that are all kept alive: a burst
of results waits for a slot instead of opening a connection per delivery (httpx's default keeps
20 of up to 100, so a 400-job burst opened and closed 156 connections to the daemon, a TCP
handshake and a teardown each)."""
KEPT_ALIVE = 64
"""Idle connections kept per scheme, across origins (each origin uses at most DELIVERY_CONNECTIONS)."""


def webhook_id_for(job_id: str) -> str:
    """The message id of a job's delivery: stable across retries and restarts."""
    return f"msg_{job_id}"


def build_payload(
    *,
    job_id: str,
    group_id: str,
    source_locale: str,
    target_locale: str,
    output: Any = None,
    error: str | None = None,
) -> str:
    """The JSON body (api-contracts §1.8): ``translation.completed`` with ``data``, or
    ``translation.failed`` with ``error``. Serialised once and stored, so every attempt sends
    the same bytes."""
    payload: dict[str, Any] = {
        "type": "translation.failed" if error is not None else "translation.completed",
        "jobId": job_id,
        "groupId": group_id,
        "sourceLocale": source_locale,
        "targetLocale": target_locale,
    }
    if error is not None:
        payload["error"] = error
    else:
        payload["data"] = output
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class Deliverer:
    """Runs pending deliveries until cancelled; ``wake()`` when new ones may be due."""

    def __init__(self, *, store: EngineStore, settings: EngineSettings, knobs: Knobs, rng: random.Random) -> None:
        self._store = store
        self._settings = settings
        self._knobs = knobs
        self._rng = rng
        self._wake = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._clients: dict[bool, httpx.AsyncClient] = {}  # by "is https"
        self._slots: dict[str, asyncio.Semaphore] = {}  # by receiver origin

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                timeout = IDLE_POLL_SECONDS
                if not self._knobs.pause_deliveries:
                    now = time.time()
                    for webhook_id, due in self._store.pending_deliveries():
                        if webhook_id in self._inflight:
                            continue
                        if due > now:
                            timeout = min(timeout, due - now)
                            break
                        task = asyncio.create_task(self._deliver(webhook_id), name=f"deliver {webhook_id}")
                        self._inflight[webhook_id] = task
                await wait_event(self._wake, timeout)
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    async def _deliver(self, webhook_id: str) -> None:
        try:
            jitter = self._knobs.reorder_jitter_seconds
            if jitter > 0:
                await asyncio.sleep(self._rng.uniform(0, jitter))
            if self._knobs.pause_deliveries:
                return  # stays pending; the loop sends it once unpaused
            row = self._store.get_delivery(webhook_id)
            if row is None or not row.pending:
                return
            ok, detail = await self._post(row)
            if ok:
                self._store.record_delivery_success(webhook_id, now=time.time())
                log.info("delivery_succeeded", webhook_id=webhook_id, attempt=row.attempts + 1)
                if self._knobs.duplicate_rate > 0 and self._rng.random() < self._knobs.duplicate_rate:
                    await self._post(row)
                    log.info("delivery_duplicated", webhook_id=webhook_id)
                return
            delays = self._knobs.delivery_retry_delays
            attempt = row.attempts + 1
            retry_at = time.time() + delays[attempt - 1] if attempt <= len(delays) else None
            self._store.record_delivery_failure(webhook_id, error=detail, retry_at=retry_at)
            if retry_at is None:
                log.warning("delivery_gave_up", webhook_id=webhook_id, attempts=attempt, error=detail)
            else:
                log.info("delivery_retry_scheduled", webhook_id=webhook_id, attempt=attempt, error=detail)
        finally:
            self._inflight.pop(webhook_id, None)
            self._wake.set()

    def _client_for(self, url: httpx.URL) -> httpx.AsyncClient:
        """One client per scheme, made on the first delivery that needs it: a TLS context costs
        MBs an idle engine need not hold, and ~40 ms that callbacks to ``http://`` (a local
        daemon) never use (redirects are not followed, so a plain-http client never does TLS)."""
        https = url.scheme != "http"
        client = self._clients.get(https)
        if client is None:
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=KEPT_ALIVE)
            client = self._clients[https] = httpx.AsyncClient(
                timeout=self._settings.delivery_timeout_seconds, verify=https, limits=limits)
        return client

    def _slot_for(self, url: httpx.URL) -> asyncio.Semaphore:
        """The origin's ``DELIVERY_CONNECTIONS`` slots: a receiver that hangs holds its own only."""
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        slot = self._slots.get(origin)
        if slot is None:
            slot = self._slots[origin] = asyncio.Semaphore(DELIVERY_CONNECTIONS)
        return slot

    async def _post(self, row: DeliveryRow) -> tuple[bool, str]:
        """One signed POST; returns (2xx?, short description). Never raises for HTTP trouble.

        Signed once a slot is free, right before sending: a delivery that waited behind a
        stalled receiver must not arrive with a timestamp it outwaited (the receiver's
        tolerance is 5 minutes, and a refusal would cost it an attempt).
        """
        try:
            url = httpx.URL(row.url)
            client = self._client_for(url)
        except (httpx.InvalidURL, ValueError) as exc:  # passed validation, yet httpx cannot use it
            self._store.bump("deliveries_attempted")
            self._store.bump("delivery_errors")
            return False, type(exc).__name__
        async with self._slot_for(url):
            body = row.payload.encode()
            headers = {
                "content-type": "application/json",
                "user-agent": "locsync-engine",
                **signed_headers(self._settings.webhook_secret, row.webhook_id, int(time.time()), body),
            }
            self._store.bump("deliveries_attempted")
            try:
                response = await client.post(url, content=body, headers=headers)
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:  # transport trouble
                self._store.bump("delivery_errors")
                return False, type(exc).__name__
        if 200 <= response.status_code < 300:
            return True, f"HTTP {response.status_code}"
        self._store.bump("delivery_errors")
        return False, f"HTTP {response.status_code}"
