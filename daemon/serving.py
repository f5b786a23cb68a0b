"""The daemon's HTTP side: the listening socket, uvicorn, and the embedded engine behind it.

``locsync run`` starts it at once (READY only after the server listens). ``sync --once``
starts it on the first provider call (``StartsServing``): a run with nothing to submit or
fetch never imports uvicorn, Starlette or the engine, never starts the engine's worker and
never builds a TLS context. The socket is bound up front either way, so the port (and with
it the callback URL) is known before anything is submitted, and a port conflict is still a
config error at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from daemon.providers.base import GroupRef, JobRef, JobResult, Provider, SubmitRequest, WebhookEvent

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from daemon.config import ProviderConfig
    from daemon.engine.app import Engine
    from daemon.httpserver import Server
    from daemon.secrets import Secret

class HttpSide:
    """A bound socket, and on ``start()`` the app served on it (plus the embedded engine).

    The engine is built by ``start()`` too (``make_engine``), before ``make_app``, which
    mounts it: building it imports Starlette and the engine's routes.
    """

    def __init__(self, sock: socket.socket, make_app: Callable[[], ASGIApp],
                 make_engine: Callable[[], Engine] | None = None,
                 on_started: Callable[[], None] | None = None) -> None:
        self.sock = sock
        self.engine: Engine | None = None
        self._make_engine = make_engine
        self._make_app = make_app
        self._on_started = on_started
        self._lock = asyncio.Lock()
        self.server: Server | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self.server is not None and self.server.started

    async def start(self) -> None:
        """Serve the app and start the engine; idempotent, and concurrent callers wait for one start."""
        if self.started and (self.engine is None or self.engine.running):
            return
        async with self._lock:
            if self.engine is None and self._make_engine is not None:
                self.engine = self._make_engine()
            if self.server is None:
                import uvicorn

                from daemon.httpserver import Server

                # only the embedded engine serves a WebSocket (group progress): without it, no
                # WebSocket protocol is loaded at all (the websockets package: ~10 ms and ~1 MB)
                ws = "websockets-sansio" if self.engine is not None else "none"
                self.server = Server(uvicorn.Config(self._make_app(), lifespan="off", log_level="warning",
                                                   access_log=False, ws=ws, timeout_graceful_shutdown=5))
                self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="http")
            deadline = time.monotonic() + 10
            while not self.server.started:
                assert self.task is not None
                if self.task.done():
                    self.task.result()
                    raise RuntimeError("the HTTP server stopped during start-up")
                if time.monotonic() > deadline:
                    raise RuntimeError("the HTTP server did not start within 10 s")
                await asyncio.sleep(0.01)
            if self.engine is not None and not self.engine.running:
                await self.engine.start()
            if self._on_started is not None:
                self._on_started()
                self._on_started = None

    async def stop_engine(self) -> None:
        if self.engine is not None and self.engine.running:
            await self.engine.stop()

    async def stop(self) -> None:
        await self.stop_engine()
        if self.server is not None:
            self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, timeout=10)


class StartsServing(Provider):
    """Delegates to a provider after making sure the HTTP side is up: the embedded engine is
    reached through it, and a provider's webhooks for what we submit are delivered to it."""

    name: ClassVar[str] = "starts-serving"

    def __init__(self, inner: Provider, start: Callable[[], Awaitable[None]]) -> None:
        self.inner = inner
        self._start = start

    @classmethod
    def from_config(cls, config: ProviderConfig, api_key: Secret) -> Provider:  # pragma: no cover - not registered
        raise NotImplementedError("wrap a configured provider instead")

    async def submit(self, request: SubmitRequest) -> GroupRef:
        await self._start()
        return await self.inner.submit(request)

    async def get_group(self, group_id: str) -> GroupRef:
        await self._start()
        return await self.inner.get_group(group_id)

    async def get_job(self, job_id: str) -> JobResult:
        await self._start()
        return await self.inner.get_job(job_id)

    async def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        await self._start()
        pages = self.inner.list_jobs(status=status, limit=limit)
        try:
            async for ref in pages:
                yield ref
        finally:
            aclose: Any = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        return self.inner.parse_webhook(body)

    async def check(self) -> None:
        await self._start()
        await self.inner.check()

    async def aclose(self) -> None:
        await self.inner.aclose()
