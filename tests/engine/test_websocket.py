"""Live progress over the group WebSocket (seed 001 message shapes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedOK, InvalidStatus

from tests.engine.conftest import API_KEY, RunningEngine

pytestmark = pytest.mark.anyio


def ws_url(eng: RunningEngine, group_id: str) -> str:
    return eng.url.replace("http://", "ws://") + f"/jobs/localization/groups/{group_id}/ws"


async def read_all(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every message until the server closes the socket normally."""
    messages = []
    with pytest.raises(ConnectionClosedOK):
        while True:
            messages.append(json.loads(await ws.recv()))
    assert ws.close_code == 1000
    return messages


def check_snapshot(snapshot: dict[str, Any], group_id: str, total: int) -> None:
    assert set(snapshot) == {"groupId", "totalJobs", "completedJobs", "failedJobs", "jobs"}
    assert snapshot["groupId"] == group_id
    assert snapshot["totalJobs"] == total == len(snapshot["jobs"])
    for entry in snapshot["jobs"].values():
        assert set(entry) == {"locale", "status"}


async def test_snapshot_then_job_events_then_group_completed(eng: RunningEngine) -> None:
    await eng.knob(pause_processing=True)
    created = await eng.create(targetLocales=["de", "fr", "ja"])
    group_id = created["groupId"]
    async with connect(ws_url(eng, group_id), additional_headers={"X-API-Key": API_KEY}) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "snapshot"
        check_snapshot(first["snapshot"], group_id, 3)
        assert first["snapshot"]["completedJobs"] == 0
        assert {e["status"] for e in first["snapshot"]["jobs"].values()} == {"queued"}
        assert {j["id"]: j["targetLocale"] for j in created["jobs"]} == {
            k: v["locale"] for k, v in first["snapshot"]["jobs"].items()
        }
        await eng.knob(pause_processing=False)
        messages = await read_all(ws)
    *job_events, last = messages
    assert [m["type"] for m in job_events] == ["job.completed"] * 3
    assert [m["snapshot"]["completedJobs"] for m in job_events] == [1, 2, 3]
    for message in job_events:
        assert set(message) == {"type", "jobId", "locale", "snapshot"}
        check_snapshot(message["snapshot"], group_id, 3)
        assert message["snapshot"]["jobs"][message["jobId"]] == {"locale": message["locale"], "status": "completed"}
    assert {m["locale"] for m in job_events} == {"de", "fr", "ja"}
    assert last["type"] == "group.completed"
    assert (last["groupId"], last["status"]) == (group_id, "completed")
    assert last["snapshot"]["completedJobs"] == 3 and last["snapshot"]["failedJobs"] == 0


async def test_failed_job_event_and_partial_group(eng: RunningEngine) -> None:
    await eng.knob(pause_processing=True, fail_locales=["fr"])
    created = await eng.create(targetLocales=["de", "fr"])
    async with connect(ws_url(eng, created["groupId"]), additional_headers={"X-API-Key": API_KEY}) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        await eng.knob(pause_processing=False)
        messages = await read_all(ws)
    failed = next(m for m in messages if m["type"] == "job.failed")
    assert failed["locale"] == "fr" and "fr" in failed["error"]
    assert failed["snapshot"]["jobs"][failed["jobId"]]["status"] == "failed"
    assert messages[-1]["type"] == "group.completed"
    assert messages[-1]["status"] == "partial"
    assert (messages[-1]["snapshot"]["completedJobs"], messages[-1]["snapshot"]["failedJobs"]) == (1, 1)


async def test_finished_group_sends_snapshot_and_completion_then_closes(eng: RunningEngine) -> None:
    created = await eng.create(targetLocales=["de"])
    await eng.wait_group(created["groupId"])
    async with connect(ws_url(eng, created["groupId"]), additional_headers={"X-API-Key": API_KEY}) as ws:
        messages = await read_all(ws)
    assert [m["type"] for m in messages] == ["snapshot", "group.completed"]
    assert messages[0]["snapshot"] == messages[1]["snapshot"]
    assert messages[1]["status"] == "completed"


async def test_upgrade_needs_a_key_and_a_known_group(eng: RunningEngine) -> None:
    created = await eng.create(targetLocales=["de"])
    with pytest.raises(InvalidStatus) as missing:
        async with connect(ws_url(eng, created["groupId"])):
            pass
    assert missing.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as unknown:
        async with connect(ws_url(eng, "ljg_unknown"), additional_headers={"X-API-Key": API_KEY}):
            pass
    assert unknown.value.response.status_code == 404


async def test_client_may_leave_early(eng: RunningEngine) -> None:
    await eng.knob(pause_processing=True)
    created = await eng.create(targetLocales=["de"])
    async with connect(ws_url(eng, created["groupId"]), additional_headers={"X-API-Key": API_KEY}) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
    await eng.knob(pause_processing=False)  # the engine must not trip over the vanished listener
    group = await eng.wait_group(created["groupId"])
    assert group["status"] == "completed"
