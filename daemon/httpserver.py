"""uvicorn as the daemon runs it: no signal handling of its own, and a slow idle tick.

Its own module so that importing ``daemon.serving`` does not import uvicorn: ``sync --once``
only needs the server when it reaches the provider.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

TICK_SECONDS = 1.0
"""uvicorn's own loop ticks every 0.1 s to refresh the Date header and look at should_exit;
an idle daemon needs neither that often (the Date header has a one-second resolution)."""


class Server(uvicorn.Server):
    """uvicorn without its own signal handling (the daemon owns SIGTERM/SIGINT/SIGHUP) and
    with a one-second tick that a stop request cuts short."""

    _exit_event: asyncio.Event | None = None
    _exit_requested = False

    @property
    def should_exit(self) -> bool:
        return self._exit_requested

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit_requested = value
        if value and self._exit_event is not None:
            self._exit_event.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        self._exit_event = asyncio.Event()
        while not await self.on_tick(0):  # counter 0: each tick refreshes the Date header
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_SECONDS):
                    await self._exit_event.wait()
