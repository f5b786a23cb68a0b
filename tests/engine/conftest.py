"""Fixtures for engine tests: a running engine on real uvicorn and a webhook receiver.

Everything runs on 127.0.0.1 through ``tests.helpers.serve``; tests wait on conditions
with deadlines, never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from daemon.engine import Engine, EngineSettings, Knobs
from daemon.webhooks.signatures import verify
from tests.helpers import serve, wait_until_async

API_KEY = "test-key-1"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass
class RunningEngine:
    """An engine served on real uvicorn, with a client that sends the API key."""

    engine: Engine
    url: str
    client: httpx.AsyncClient

    @property
    def knobs(self) -> Knobs:
        return self.engine.knobs

    async def create(self, expect: int = 202, **body: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {"sourceLocale": "en", "targetLocales": ["de", "fr"], "data": {"title": "Hello"}}
        payload.update(body)
        response = await self.client.post("/jobs/localization", json=payload)
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    async def group(self, group_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/jobs/localization/groups/{group_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/jobs/localization/{job_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def stats(self) -> dict[str, int]:
        response = await self.client.get("/_engine/stats")
        assert response.status_code == 200, response.text
        result: dict[str, int] = response.json()
        return result

    async def knob(self, **changes: Any) -> dict[str, Any]:
        response = await self.client.post("/_engine/knobs", json=changes)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def wait_group(self, group_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until every job of the group is terminal; return the group view."""
        seen: dict[str, Any] = {}

        async def done() -> bool:
            seen.update(await self.group(group_id))
            return bool(seen["pendingJobs"] == 0)

        await wait_until_async(done, timeout=timeout)
        return seen

    async def wait_stats(self, timeout: float = 10.0, **expected: int) -> dict[str, int]:
        seen: dict[str, int] = {}

        async def matches() -> bool:
            seen.update(await self.stats())
            return all(seen[k] == v for k, v in expected.items())

        try:
            await wait_until_async(matches, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"stats never matched {expected}; last {seen}") from exc
        return seen


@asynccontextmanager
async def running_engine(settings: EngineSettings, knobs: Knobs | None = None) -> AsyncIterator[RunningEngine]:
    engine = Engine(settings, knobs)
    await engine.start()
    try:
        async with (
            serve(engine.app) as url,
            httpx.AsyncClient(base_url=url, headers={"X-API-Key": API_KEY}, timeout=10) as client,
        ):
            yield RunningEngine(engine, url, client)
    finally:
        await engine.stop()


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def settings(tmp_path: Path, secret: str) -> EngineSettings:
    return EngineSettings(db_path=str(tmp_path / "engine.db"), webhook_secret=secret, allow_http_callbacks=True)


@pytest.fixture
async def eng(settings: EngineSettings) -> AsyncIterator[RunningEngine]:
    async with running_engine(settings) as running:
        yield running


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    peer: tuple[str, int] | None = None
    """The sender's address and port: one per TCP connection."""

    @property
    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """A webhook receiver app: records every request, answers from ``statuses`` (then 200).

    ``hold`` (when set) makes the receiver wait on it before answering, to simulate a slow peer.
    """

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    hold: asyncio.Event | None = None

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            peer = (request.client.host, request.client.port) if request.client else None
            self.received.append(Received(dict(request.headers), body, time.time(), peer))
            if self.hold is not None:
                await self.hold.wait()
            status = self.statuses.pop(0) if self.statuses else 200
            return JSONResponse({"ok": status < 300}, status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every delivery's payload, after checking its signature (raises if one is bad)."""
        for r in self.received:
            verify([secret], r.headers, r.body, now=time.time())
        return [r.json for r in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    async with serve(recv.app()) as url:
        recv.url = url + "/hook"
        yield recv


def replace_settings(settings: EngineSettings, **changes: Any) -> EngineSettings:
    return dataclasses.replace(settings, **changes)
