"""Durability: a new Engine on the same database finishes what the old one left."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from daemon.engine import EngineSettings, Knobs
from tests.engine.conftest import API_KEY, Receiver, running_engine
from tests.helpers import wait_until_async

pytestmark = pytest.mark.anyio


async def test_restart_completes_queued_jobs_and_pending_deliveries(
    settings: EngineSettings, receiver: Receiver, secret: str
) -> None:
    async with running_engine(settings, Knobs(pause_processing=True)) as first:
        queued = await first.create(targetLocales=["de", "fr"], callbackUrl=receiver.url, idempotencyKey="k1")
        await first.knob(pause_deliveries=True)
        await first.knob(pause_processing=False)
        await first.wait_group(queued["groupId"])
        await first.knob(pause_processing=True)
        waiting = await first.create(targetLocales=["ja", "ko"], callbackUrl=receiver.url)
        await first.wait_stats(deliveries_pending=2, jobs_completed=2)
    assert receiver.received == []

    async with running_engine(settings) as second:  # default knobs: nothing paused
        group = await second.wait_group(waiting["groupId"])
        assert group["status"] == "completed"
        stats = await second.wait_stats(deliveries_succeeded=4, deliveries_pending=0)
        assert (stats["groups_created"], stats["jobs_completed"]) == (2, 4)
        assert sorted(p["targetLocale"] for p in receiver.verified(secret)) == ["de", "fr", "ja", "ko"]
        replay = await second.create(targetLocales=["de", "fr"], callbackUrl=receiver.url, idempotencyKey="k1")
        assert replay["groupId"] == queued["groupId"]  # idempotency keys survive a restart too


async def test_restart_requeues_jobs_that_were_processing(settings: EngineSettings) -> None:
    async with running_engine(settings, Knobs(latency_seconds=30)) as first:
        created = await first.create(targetLocales=["de"])
        job_id = created["jobs"][0]["id"]

        async def processing() -> bool:
            return bool((await first.job(job_id))["status"] == "processing")

        await wait_until_async(processing)
        url = first.url.replace("http://", "ws://") + f"/jobs/localization/groups/{created['groupId']}/ws"
        async with connect(url, additional_headers={"X-API-Key": API_KEY}) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            await first.engine.stop()  # cancels the job mid-way and closes listeners
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1001
    async with running_engine(settings) as second:
        group = await second.wait_group(created["groupId"])
        assert group["status"] == "completed"
        job = await second.job(job_id)
        assert job["outputData"]["title"].startswith("⟦de⟧")
        assert len(job["steps"]) == 1
