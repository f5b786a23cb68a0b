"""The sd_notify protocol (READY, STATUS, WATCHDOG, RELOADING, STOPPING); a no-op outside systemd.

Ten lines instead of a dependency: the PyPI ``sdnotify`` package swallows every error
and encodes latin-1, and ``systemd-python`` needs libsystemd headers to build.

The watchdog keep-alive is sent from the event loop (``watchdog_loop``), so a blocked loop
stops the pings and systemd restarts the service (``WatchdogSec=`` with ``Restart=on-failure``).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable


def notify(message: str) -> bool:
    """Send ``message`` to ``$NOTIFY_SOCKET``; return False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            # never block the event loop: a listener that stopped reading loses a message instead
            sock.send(message.encode(), socket.MSG_DONTWAIT)
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between keep-alives (half of ``$WATCHDOG_USEC``), or None when no watchdog is armed.

    ``$WATCHDOG_PID``, when set, must name this process: a child that inherited the
    environment must not ping on its parent's behalf.
    """
    usec = os.environ.get("WATCHDOG_USEC")
    if not usec or not os.environ.get("NOTIFY_SOCKET"):
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2 / 1_000_000 if value > 0 else None


async def watchdog_loop(interval: float, healthy: Callable[[], bool] = lambda: True) -> None:
    """Send ``WATCHDOG=1`` every ``interval`` seconds while ``healthy()``; runs until cancelled."""
    while True:
        if healthy():
            notify("WATCHDOG=1")
        await asyncio.sleep(interval)


class StatusLine:
    """Send ``STATUS=`` only when the text changes (``systemctl status`` shows the latest)."""

    def __init__(self) -> None:
        self.last: str | None = None

    def update(self, text: str) -> bool:
        if text == self.last:
            return False
        self.last = text
        return notify(f"STATUS={text}")
