"""The daemon's HTTP app: signed webhook deliveries in, health out.

A delivery is verified over its raw bytes, persisted in the inbox (deduplicated by
``webhook-id``) and only then answered 2xx; processing happens after, in the daemon.
Anything malformed about the signature is a 401 and never a 500. An oversized body is
refused (413) before it is read in full.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from daemon.errors import WebhookRejected
from daemon.state.store import StateStore
from daemon.webhooks.signatures import verify

log = structlog.get_logger("locsync.webhooks")


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
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.on_stored = on_stored
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.counts: dict[str, int] = {}

    def _count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    async def handle(self, request: Request) -> Response:
        try:
            body = await self._read_body(request)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise WebhookRejected("bad_content_type", 415, "expected application/json")
            webhook_id = verify(self.secrets(), request.headers, body, now=self.clock())
            try:
                json.loads(body)
            except ValueError:
                raise WebhookRejected("malformed_json", 400, "body is not JSON") from None
        except WebhookRejected as exc:
            self._count(exc.reason)
            log.warning("webhook_rejected", reason=exc.reason, status=exc.status_code, body_bytes=None)
            return JSONResponse({"error": exc.reason}, status_code=exc.status_code)
        stored = self.store.inbox_add(webhook_id, body)
        self._count("accepted" if stored else "duplicate")
        log.info("webhook_received", webhook_id=webhook_id, duplicate=not stored, body_bytes=len(body))
        if stored:
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


def create_app(receiver: WebhookReceiver, *, extra_routes: Sequence[BaseRoute] = ()) -> ASGIApp:
    routes: list[BaseRoute] = [
        Route("/webhooks/lingo", receiver.handle, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
    ]
    return Starlette(routes=routes)


