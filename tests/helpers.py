"""Shared test helpers: real uvicorn servers on 127.0.0.1 and waiting on conditions."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from daemon.config import load_config
from daemon.errors import ConfigError


def free_port() -> int:
    """A port that was free a moment ago (for subprocesses that must bind it themselves)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve(app: Any, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run ``app`` on a real uvicorn server bound to a fresh port; yield its base URL."""
    # protocol IPPROTO_TCP (not 0) so asyncio enables TCP_NODELAY on accepted connections;
    # without it every request waits ~40 ms on Nagle and delayed ACKs
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until_async(lambda: server.started or task.done(), timeout=10)
        if task.done():
            task.result()
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


async def wait_until_async(
    predicate: Callable[[], bool | Awaitable[bool]], *, timeout: float = 10.0, interval: float = 0.01
) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


def wait_until(predicate: Callable[[], bool], *, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Blocking variant of ``wait_until_async`` for subprocess-driven tests."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def shared_corpus() -> Path:
    """``../shared/corpus`` beside the project root (absent in a user's clone: tests skip)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def write_config(tmp_path: Path, text: str) -> Path:
    """``text`` as ``tmp_path/locsync.yaml``."""
    path = tmp_path / "locsync.yaml"
    path.write_text(text)
    return path


def config_problems(tmp_path: Path, text: str) -> list[str]:
    """The lines of the ``ConfigError`` that loading ``text`` must raise."""
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, text))
    return str(info.value).splitlines()
