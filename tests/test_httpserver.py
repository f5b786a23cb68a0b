"""The daemon's uvicorn (``daemon.httpserver.Server``) on a real socket: its shutdown waits for a
request in flight, closes idle keep-alive connections, and never pauses for a fixed 0.1 s
(uvicorn's own ``shutdown`` does, once per ``sync --once``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from daemon.httpserver import Server
from tests.helpers import wait_until_async

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[tuple[Server, asyncio.Task[None], str]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = Server(uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=5))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until_async(lambda: server.started or task.done(), timeout=10)
        yield server, task, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


def slow_app(release: asyncio.Event, entered: asyncio.Event) -> Starlette:
    async def slow(_request: Request) -> PlainTextResponse:
        entered.set()
        await release.wait()
        return PlainTextResponse("done")

    async def fast(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/slow", slow), Route("/fast", fast)])


async def test_shutdown_waits_for_a_request_in_flight() -> None:
    release, entered = asyncio.Event(), asyncio.Event()
    async with running(slow_app(release, entered)) as (server, task, url), httpx.AsyncClient() as client:
        pending = asyncio.create_task(client.get(f"{url}/slow"))
        await asyncio.wait_for(entered.wait(), timeout=10)
        server.should_exit = True
        await wait_until_async(lambda: not server.servers[0].is_serving(), timeout=10)
        assert not task.done(), "shutdown finished while a request was still being answered"
        release.set()
        response = await asyncio.wait_for(pending, timeout=10)
        assert (response.status_code, response.text) == (200, "done")
        await asyncio.wait_for(task, timeout=10)
        assert not server.server_state.connections


async def test_shutdown_closes_idle_connections_without_a_fixed_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    release, entered = asyncio.Event(), asyncio.Event()
    async with running(slow_app(release, entered)) as (server, task, url), httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/fast")).text == "ok"
        assert len(server.server_state.connections) == 1  # kept alive by the client
        sleeps: list[float] = []
        real_sleep = asyncio.sleep

        async def recorded(delay: float, *args: object) -> object:
            sleeps.append(delay)
            return await real_sleep(delay, *args)

        monkeypatch.setattr(asyncio, "sleep", recorded)
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        assert not server.server_state.connections
        assert max(sleeps, default=0) < 0.1, f"shutdown slept {sleeps}"
