"""The daemon's HTTP app: signed webhook deliveries in; health, readiness and metrics out.

A delivery is verified over its raw bytes, persisted in the inbox (deduplicated by
``webhook-id``) and only then answered 2xx; processing happens after, in the daemon.
Anything malformed about the signature is a 401 and never a 500. An oversized body is
refused (413) before it is read in full.

Only ``POST /webhooks/lingo`` needs to be reachable from outside; ``/healthz``, ``/readyz``
and ``/metrics`` are for the host (systemd, a load balancer's health check, Prometheus).
"""

from __future__ import annotations

import json
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
        stored = self.store.inbox_add(webhook_id, body)
        self._count("accepted" if stored else "duplicate")
        ids = _ids(payload)
        log.info("webhook_received", webhook_id=webhook_id, duplicate=not stored, body_bytes=len(body), **ids)
        if stored:
            if self.metrics is not None and "job_id" in ids:
                self.metrics.result_arrived(ids["job_id"], "webhook")
            self.on_stored()
        return JSONResponse({"ok": True, "duplicate": not stored})

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


