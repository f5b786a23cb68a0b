"""The one way the engine's background loops sleep.

Not ``asyncio.wait_for``: on Python 3.11 it can swallow a cancellation that arrives just as
the awaited event fires (CPython gh-86296). The worker's event fires constantly while jobs
finish, so a swallowed cancel was a real hang in ``Engine.stop()``. ``asyncio.timeout``
tracks its own cancellation separately and lets an outside one through.
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_event(event: asyncio.Event, timeout: float) -> None:
    """Return when ``event`` is set or after ``timeout`` seconds, whichever is first."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(timeout, 0.001)):
            await event.wait()
