"""The sd_notify protocol (READY, STATUS, WATCHDOG, STOPPING); a no-op outside systemd.

Ten lines instead of a dependency: the PyPI ``sdnotify`` package swallows every error
and encodes latin-1, and ``systemd-python`` needs libsystemd headers to build.
"""

from __future__ import annotations

import os
import socket


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
            sock.sendall(message.encode())
    except OSError:
        return False
    return True
