"""How the outbox treats provider errors.

The reference engine does not model Lingo.dev's quota answers (402 credit limit, 429 daily
token quota) or bursts of 5xx, so these tests use httpx.MockTransport as a stand-in for the
vendor, as the project's testing rules allow for vendor quirks.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest

from daemon.backoff import QUOTA_BACKOFF_SECONDS
from daemon.providers.lingo import LingoProvider
from daemon.reports import status_report
from daemon.secrets import Secret
from daemon.state.store import StateStore
from daemon.syncer import Syncer
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def accepted(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(202, json={"groupId": "ljg_ok", "status": "pending", "jobs": [
        {"id": f"ljb_{loc}", "targetLocale": loc, "status": "queued"} for loc in body["targetLocales"]]})


def make_syncer(tmp_path: Path, answers: list[httpx.Response | type[Exception]]) -> tuple[Syncer, list[httpx.Request], FakeClock]:
    loaded = make_project(tmp_path / "repo", {"a": "One"}, provider={"kind": "lingo"})
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if answers else None
        if answer is None:
            return accepted(request)
        if isinstance(answer, type):
            raise answer("boom", request=request)  # type: ignore[call-arg]
        return answer

    clock = FakeClock()
    provider = LingoProvider("https://api.lingo.dev", Secret("sk-never-logged"), transport=httpx.MockTransport(handler))
    store = StateStore(loaded.state_path, clock=clock)
    return Syncer(loaded, store, provider, callback_url=None, git=None, clock=clock, rng=random.Random(1)), seen, clock


async def test_5xx_and_transport_errors_retry_with_backoff_and_the_same_key(tmp_path: Path) -> None:
    syncer, seen, clock = make_syncer(tmp_path, [
        httpx.Response(500, json={"message": "boom"}), httpx.ConnectError, httpx.ReadTimeout,
        httpx.Response(503, json={"message": "later"}),
    ])
    await syncer.scan()
    waits = []
    for _ in range(5):
        wait = await syncer.submit_pending()
        if wait is None:
            break
        waits.append(wait)
        assert await syncer.submit_pending() == pytest.approx(wait)  # not due yet: nothing sent
        clock.now += wait
    assert len(seen) == 5
    keys = {json.loads(r.content)["idempotencyKey"] for r in seen}
    assert len(keys) == 1
    assert all(0 <= w <= 0.5 * 2**i for i, w in enumerate(waits))
    (job,) = syncer.store.jobs()
    assert job.group_id == "ljg_ok"


@pytest.mark.parametrize("status", [402, 429])
async def test_quota_errors_back_off_long_and_show_in_status(tmp_path: Path, status: int) -> None:
    syncer, seen, clock = make_syncer(tmp_path, [httpx.Response(status, json={"message": "quota reached"})])
    await syncer.scan()
    wait = await syncer.submit_pending()
    assert wait == QUOTA_BACKOFF_SECONDS
    assert syncer.health.blocked_until == clock.now + QUOTA_BACKOFF_SECONDS
    report = status_report(syncer.loaded)
    (waiting,) = report["waiting"]
    assert f"HTTP {status}" in waiting and "quota reached" in waiting
    assert "sk-never-logged" not in json.dumps(report)
    clock.now += 60
    assert await syncer.submit_pending() is not None
    assert len(seen) == 1  # no blind retry within the back-off


async def test_retry_after_is_honoured(tmp_path: Path) -> None:
    syncer, _seen, _clock = make_syncer(tmp_path, [httpx.Response(429, headers={"Retry-After": "120"})])
    await syncer.scan()
    assert await syncer.submit_pending() == 120


async def test_validation_error_is_final_and_reported(tmp_path: Path) -> None:
    syncer, seen, _clock = make_syncer(tmp_path, [httpx.Response(400, json={"message": "bad locale"})])
    await syncer.scan()
    assert await syncer.submit_pending() is None
    assert await syncer.submit_pending() is None
    assert len(seen) == 1
    (sub,) = syncer.store.submissions()
    assert sub.state == "rejected" and "bad locale" in (sub.last_error or "")
