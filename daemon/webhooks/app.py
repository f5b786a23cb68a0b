"""The daemon's HTTP app: signed webhook deliveries in; health, readiness and metrics out.

A delivery is verified over its raw bytes, persisted in the inbox (deduplicated by
``webhook-id``) and only then answered 2xx; processing happens after, in the daemon.
Persisting is a group commit: concurrent deliveries share one transaction, so one fsync,
committed on a writer thread while the event loop goes on serving (``GroupCommit``).
If the database cannot take the row the answer is 503, which makes the sender retry.
Anything malformed about the signature is a 401 and never a 500. An oversized body is
refused (413) before it is read in full.

Only ``POST /webhooks/lingo`` needs to be reachable from outside; ``/healthz``, ``/readyz``
and ``/metrics`` are for the host (systemd, a load balancer's health check, Prometheus).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from daemon.errors import WebhookRejected
from daemon.state.store import StateStore
from daemon.webhooks.signatures import verify

if TYPE_CHECKING:
    from daemon.metrics import Metrics

log = structlog.get_logger("locsync.webhooks")
Endpoint = Callable[[Request], Awaitable[Response]]

GROUP_MAX = 256
"""Deliveries per transaction at most: bounds one commit's time (bodies are up to 64 KiB)."""
WRITER_IDLE_SECONDS = 5.0
"""The writer thread (and its connection) goes away after this long without a delivery."""

_Waiter = tuple[str, bytes, float, "asyncio.Future[bool]"]
_ACCEPTED = b'{"ok":true,"duplicate":false}'
_DUPLICATE = b'{"ok":true,"duplicate":true}'
"""The two answers to a stored delivery, rendered once (JSONResponse would encode each time)."""


class GroupCommit:
    """Inbox inserts of concurrent requests, committed together by one writer thread.

    ``await add(...)`` returns only once the row is committed (``synchronous=FULL``: on
    disk), so the 2xx that follows is as durable as with one transaction per request; but
    while one batch commits, the next requests queue up and share the next commit. Under
    load that turns N fsyncs into one, and the event loop never waits on an fsync at all.

    The thread has its own connection (``StateStore.sibling``) and starts on the first
    delivery; it exits after ``idle_seconds`` without one, or on ``close()``.
    """

    def __init__(self, store: StateStore, *, idle_seconds: float = WRITER_IDLE_SECONDS) -> None:
        self.store = store
        self.idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._queue: list[_Waiter] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self._kick_due = False
        self._in_writer = 0
        self.commits = 0
        """Transactions committed so far (for tests: fewer than deliveries means grouping happened)."""

    async def add(self, webhook_id: str, body: bytes, received_at: float) -> bool:
        """Persist one delivery; False if ``webhook_id`` was stored before. Raises ``sqlite3.Error``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._cond:
            if self._closed:
                raise sqlite3.OperationalError("the inbox writer is closed")
            self._queue.append((webhook_id, body, received_at, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                self._thread.start()
        if not self._kick_due:
            # wake the writer once per loop iteration, not once per request: the requests
            # parsed in this iteration join the same batch, and the loop keeps the GIL meanwhile
            self._kick_due = True
            loop.call_soon(self._kick)
        # no shield needed: each waiter has its own future, and _resolve skips a cancelled one
        return await future

    def waiting(self) -> int:
        """Deliveries queued or being committed: not answered yet."""
        with self._cond:
            return len(self._queue) + self._in_writer

    def _kick(self) -> None:
        self._kick_due = False
        with self._cond:
            self._cond.notify()

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify()
        if thread is not None:
            thread.join(timeout)

    def _next_batch(self) -> list[_Waiter] | None:
        with self._cond:
            while not self._queue:
                idle = self._closed or not self._cond.wait(self.idle_seconds)
                if idle and not self._queue:  # closed, or nothing came for idle_seconds
                    self._thread = None
                    return None
            batch, self._queue = self._queue[:GROUP_MAX], self._queue[GROUP_MAX:]
            self._in_writer = len(batch)
            return batch

    def _run(self) -> None:
        store: StateStore | None = None
        try:
            while (batch := self._next_batch()) is not None:
                outcome: list[bool] | BaseException
                try:
                    if store is None:
                        store = self.store.sibling()
                    outcome = store.inbox_add_many([(w, b, t) for w, b, t, _f in batch])
                    self.commits += 1
                except Exception as exc:  # every waiter gets it: a 503, and the sender retries
                    outcome = exc
                with self._cond:
                    self._in_writer = 0
                _settle(batch, outcome)
        finally:
            if store is not None:
                store.close()


def _settle(batch: list[_Waiter], outcome: list[bool] | BaseException) -> None:
    """Hand each waiter its result on its own event loop (one wake-up per loop and batch)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = {}
    for n, (_w, _b, _t, future) in enumerate(batch):
        result = outcome if isinstance(outcome, BaseException) else outcome[n]
        by_loop.setdefault(future.get_loop(), []).append((future, result))
    for loop, results in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, results)


def _resolve(results: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for future, result in results:
        if future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


class WebhookReceiver:
    """Verifies and persists deliveries; ``on_stored`` wakes the processor."""

    def __init__(
        self,
        store: StateStore,
        secrets: Callable[[], Sequence[str]],
        *,
        on_stored: Callable[[], None],
        clock: Callable[[], float],
        max_body_bytes: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.on_stored = on_stored
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.counts: dict[str, int] = {}
        self.inbox = GroupCommit(store)

    def close(self) -> None:
        """Stop the inbox writer thread (after the server stopped taking requests)."""
        self.inbox.close()

    def _count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if self.metrics is not None:
            if outcome in ("accepted", "duplicate"):
                self.metrics.webhook(outcome)
            else:
                self.metrics.webhook("rejected", outcome)

    async def handle(self, request: Request) -> Response:
        try:
            body = await self._read_body(request)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise WebhookRejected("bad_content_type", 415, "expected application/json")
            webhook_id = verify(self.secrets(), request.headers, body, now=self.clock())
            try:
                payload = json.loads(body)
            except ValueError:
                raise WebhookRejected("malformed_json", 400, "body is not JSON") from None
        except WebhookRejected as exc:
            self._count(exc.reason)
            log.warning("webhook_rejected", reason=exc.reason, status=exc.status_code, body_bytes=None)
            return JSONResponse({"error": exc.reason}, status_code=exc.status_code)
        ids = _ids(payload)
        if self.metrics is not None and "job_id" in ids:
            # the write-back clock starts at arrival, before the group commit: a catch-up that reads
            # the same result while we wait for the disk must not count as the first arrival
            self.metrics.result_arrived(ids["job_id"], "webhook")
        try:
            stored = await self.inbox.add(webhook_id, body, self.store.clock())
        except sqlite3.Error as exc:
            self._count("store_unavailable")
            log.error("webhook_not_stored", webhook_id=webhook_id, error=str(exc), hint="the sender will retry")
            return JSONResponse({"error": "store_unavailable"}, status_code=503)
        self._count("accepted" if stored else "duplicate")
        log.info("webhook_received", webhook_id=webhook_id, duplicate=not stored, body_bytes=len(body), **ids)
        if stored:
            self.on_stored()
        return Response(_ACCEPTED if stored else _DUPLICATE, media_type="application/json")

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise WebhookRejected("bad_content_length", 400, "content-length is not a number") from None
            if size > self.max_body_bytes:
                raise WebhookRejected("too_large", 413, f"body over {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > self.max_body_bytes:
                raise WebhookRejected("too_large", 413, f"body over {self.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _ids(payload: Any) -> dict[str, str]:
    """Job, group and locale ids of an authentic payload, for the log (short, printable, never data)."""
    if not isinstance(payload, dict):
        return {}
    ids = {}
    for field, name in (("jobId", "job_id"), ("groupId", "group_id"), ("targetLocale", "locale")):
        value = payload.get(field)
        if isinstance(value, str) and value.isprintable():
            ids[name] = value[:64]
    return ids


def create_app(
    receiver: WebhookReceiver,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    readyz: Endpoint | None = None,
    metrics: Endpoint | None = None,
) -> ASGIApp:
    routes: list[BaseRoute] = [
        Route("/webhooks/lingo", receiver.handle, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if readyz is not None:
        routes.append(Route("/readyz", readyz, methods=["GET"]))
    if metrics is not None:
        # a plain Route: Mount("/metrics", make_asgi_app()) answers 307 -> /metrics/
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    routes.extend(extra_routes)
    return Starlette(routes=routes)


