"""The reference engine: a local server speaking the Lingo.dev async localization API.

It exists so locsync can run without an account and so end-to-end tests have a real
server to talk to, including one that misbehaves on demand (see ``Knobs``). ``Engine``
wires the pieces together: the store (``store.py``), the worker (``worker.py``), the
webhook deliverer (``delivery.py``), the WebSocket fan-out (``events.py``) and the routes
(``api.py``).

Background work is started by ``start()`` and stopped by ``stop()`` rather than by an ASGI
lifespan, because the app may be mounted inside another Starlette app (``Mount("/engine",
engine.app)``), and mounted apps never see lifespan events.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import structlog
import uvicorn
from starlette.types import ASGIApp

from daemon.engine.api import build_app
from daemon.engine.delivery import Deliverer
from daemon.engine.events import GroupEvents
from daemon.engine.faults import FaultInjector
from daemon.engine.settings import EngineSettings, Knobs
from daemon.engine.store import EngineStore
from daemon.engine.translators import JobTranslator, make_translator
from daemon.engine.worker import Worker

log = structlog.get_logger("locsync.engine")


class Engine:
    """One engine instance over one SQLite file.

    ``app`` can be served (or mounted) before ``start()``; until then it answers 503.
    After ``stop()`` a new ``Engine`` on the same ``db_path`` resumes every queued or
    interrupted job and every pending delivery.
    """

    def __init__(self, settings: EngineSettings, knobs: Knobs | None = None) -> None:
        self.settings = settings
        self.knobs = knobs if knobs is not None else Knobs()
        self.events = GroupEvents()
        self.app: ASGIApp = FaultInjector(build_app(self), self.knobs.faults)
        self._rng = random.Random(self.knobs.seed)
        self._store: EngineStore | None = None
        self._translator: JobTranslator | None = None
        self._worker: Worker | None = None
        self._deliverer: Deliverer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> EngineStore:
        if self._store is None:
            raise RuntimeError("the engine is not running; call start() first")
        return self._store

    async def start(self) -> None:
        """Open the store, requeue interrupted jobs, start the worker and the deliverer."""
        if self._store is not None:
            raise RuntimeError("the engine is already running")
        store = EngineStore.open(self.settings.db_path)
        requeued = store.requeue_interrupted()
        self._translator = make_translator(self.settings)
        self.events = GroupEvents()
        self._deliverer = Deliverer(store=store, settings=self.settings, knobs=self.knobs, rng=self._rng)
        self._worker = Worker(
            store=store,
            settings=self.settings,
            knobs=self.knobs,
            translator=self._translator,
            events=self.events,
            rng=self._rng,
            on_delivery_queued=self._deliverer.wake,
        )
        self._store = store
        self._tasks = [
            asyncio.create_task(self._worker.run(), name="engine worker"),
            asyncio.create_task(self._deliverer.run(), name="engine deliverer"),
        ]
        log.info(
            "engine_started",
            engine_id=self.settings.engine_id,
            translator=self.settings.translator,
            requeued_jobs=requeued,
            pending_deliveries=len(store.pending_deliveries()),
        )

    async def stop(self) -> None:
        """Cancel background work, close WebSockets (1001) and the store. Safe to call twice."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.error("engine_task_failed", error=repr(result))
        self.events.close()
        if self._translator is not None:
            await self._translator.aclose()
            self._translator = None
        if self._store is not None:
            self._store.close()
            self._store = None
            log.info("engine_stopped", engine_id=self.settings.engine_id)
        self._worker = self._deliverer = None

    def wake_worker(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    def update_knobs(self, changes: Mapping[str, Any]) -> Knobs:
        """Apply a partial knob update (``ValueError`` on a bad one) and let the loops react now."""
        self.knobs.update(changes)
        if "seed" in changes:
            self._rng.seed(self.knobs.seed)
        log.info("knobs_updated", **{k: v for k, v in self.knobs.to_json().items() if k in changes})
        if self._worker is not None:
            self._worker.wake()
        if self._deliverer is not None:
            self._deliverer.wake()
        return self.knobs

    def stats(self) -> dict[str, int]:
        """The ``/_engine/stats`` counters."""
        return self.store.stats()


class _Server(uvicorn.Server):
    """uvicorn re-raises a captured SIGINT/SIGTERM once it has shut down, which would cancel
    ``Engine.stop()`` half-way; here a signal only asks the server to exit, so ``serve``
    returns normally after a clean stop (a second Ctrl-C still forces the exit)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


async def serve(
    settings: EngineSettings, host: str = "127.0.0.1", port: int = 8787, knobs: Knobs | None = None
) -> None:
    """Run an engine standalone on ``host:port`` until SIGINT/SIGTERM, then stop it cleanly."""
    engine = Engine(settings, knobs)
    await engine.start()
    try:
        config = uvicorn.Config(engine.app, host=host, port=port, lifespan="off", ws="websockets-sansio")
        await _Server(config).serve()
    finally:
        await engine.stop()
