"""uvicorn as the daemon runs it: no signal handling of its own, and a slow idle tick.

Its own module so that importing ``daemon.serving`` does not import uvicorn: ``sync --once``
only needs the server when it reaches the provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections.abc import Iterator

import uvicorn

TICK_SECONDS = 1.0
"""uvicorn's own loop ticks every 0.1 s to refresh the Date header and look at should_exit;
an idle daemon needs neither that often (the Date header has a one-second resolution)."""

SHUTDOWN_POLL_SECONDS = 0.005


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

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown without its fixed 0.1 s pause: connections are asked to close, then
        watched every 5 ms until they have (at most ``timeout_graceful_shutdown``), so a
        ``sync --once`` does not end each run by sleeping."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        grace = self.config.timeout_graceful_shutdown  # None: wait as long as it takes, as uvicorn does
        deadline = time.monotonic() + (math.inf if grace is None else grace)
        # uvicorn's connection and task sets come with no event to wait on
        while (state.connections or state.tasks) and not self.force_exit and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(SHUTDOWN_POLL_SECONDS)
        for task in state.tasks:
            task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        for server in self.servers:
            # bounded like the rest: from Python 3.12 wait_closed waits for every connection
            left = None if grace is None else max(deadline - time.monotonic(), 0.001)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), left)
        if not self.force_exit:
            await self.lifespan.shutdown()
