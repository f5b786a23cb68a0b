"""Webhook deliveries to a real receiver: signatures, retries, knobs, concurrency."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from daemon.engine import delivery as delivery_module
from daemon.engine.delivery import DELIVERY_CONNECTIONS
from daemon.engine.translators.pseudo import depseudo
from daemon.errors import WebhookRejected
from daemon.webhooks.signatures import signed_headers, verify
from tests.engine.conftest import Receiver, RunningEngine
from tests.helpers import serve, wait_until_async

pytestmark = pytest.mark.anyio


async def test_deliveries_are_signed_and_complete(eng: RunningEngine, receiver: Receiver, secret: str) -> None:
    created = await eng.create(
        targetLocales=["de", "fr", "ja"], data={"title": "Hello", "n": 1}, callbackUrl=receiver.url
    )
    await wait_until_async(lambda: len(receiver.received) == 3)
    payloads = receiver.verified(secret)
    jobs = {j["targetLocale"]: j["id"] for j in created["jobs"]}
    assert {p["targetLocale"] for p in payloads} == {"de", "fr", "ja"}
    for delivery, payload in zip(receiver.received, payloads, strict=True):
        assert set(payload) == {"type", "jobId", "groupId", "sourceLocale", "targetLocale", "data"}
        assert payload["type"] == "translation.completed"
        assert payload["jobId"] == jobs[payload["targetLocale"]]
        assert payload["groupId"] == created["groupId"]
        assert payload["sourceLocale"] == "en"
        assert payload["data"]["n"] == 1
        assert payload["data"]["title"].startswith(f"⟦{payload['targetLocale']}⟧")
        assert depseudo(payload["data"]["title"]) == "Hello"
        assert delivery.headers["content-type"] == "application/json"
        assert delivery.webhook_id == f"msg_{payload['jobId']}"
        assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 60
    stats = await eng.wait_stats(deliveries_succeeded=3, deliveries_pending=0)
    assert (stats["deliveries_attempted"], stats["deliveries_failed"]) == (3, 0)
    first = receiver.received[0]
    with pytest.raises(WebhookRejected, match="bad_signature"):
        verify(["whsec_QUFBQUFBQUFBQUFBQUFBQQ=="], first.headers, first.body, now=time.time())


async def test_non_2xx_is_retried_with_the_same_webhook_id(eng: RunningEngine, receiver: Receiver, secret: str) -> None:
    await eng.knob(delivery_retry_delays=[0.05, 0.05])
    receiver.statuses = [500, 302]
    await eng.create(targetLocales=["de"], callbackUrl=receiver.url)
    stats = await eng.wait_stats(deliveries_succeeded=1)
    assert len(receiver.received) == 3
    assert len(set(receiver.ids())) == 1
    assert len({r.body for r in receiver.received}) == 1  # same bytes every attempt
    receiver.verified(secret)  # each attempt carries a valid signature
    assert (stats["deliveries_attempted"], stats["delivery_errors"], stats["deliveries_pending"]) == (3, 2, 0)


async def test_delivery_gives_up_after_the_schedule(eng: RunningEngine, receiver: Receiver) -> None:
    await eng.knob(delivery_retry_delays=[0.01, 0.01])
    receiver.statuses = [500] * 10
    await eng.create(targetLocales=["de"], callbackUrl=receiver.url)
    stats = await eng.wait_stats(deliveries_failed=1)
    assert (stats["deliveries_attempted"], stats["deliveries_succeeded"], stats["deliveries_pending"]) == (3, 0, 0)
    assert len(receiver.received) == 3


async def test_a_callback_url_httpx_cannot_use_is_a_failed_attempt(eng: RunningEngine) -> None:
    """It passes validation (an absolute https URL), but httpx refuses its host: each try is an
    attempt that failed, and the schedule ends it, instead of a delivery task dying every pass."""
    await eng.knob(delivery_retry_delays=[0.01, 0.01])
    await eng.create(targetLocales=["de"], callbackUrl="https://\u2603\u2603.example/hook")
    stats = await eng.wait_stats(deliveries_failed=1)
    assert (stats["deliveries_attempted"], stats["delivery_errors"], stats["deliveries_pending"]) == (3, 3, 0)


async def test_unreachable_receiver_is_retried(eng: RunningEngine) -> None:
    await eng.knob(delivery_retry_delays=[0.01])
    await eng.create(targetLocales=["de"], callbackUrl="http://127.0.0.1:9/hook")  # discard port: refused
    stats = await eng.wait_stats(deliveries_failed=1)
    assert stats["deliveries_attempted"] == 2


async def test_fail_locales_fails_one_locale_only(eng: RunningEngine, receiver: Receiver, secret: str) -> None:
    await eng.knob(fail_locales=["ja"])
    created = await eng.create(targetLocales=["de", "ja"], callbackUrl=receiver.url)
    group = await eng.wait_group(created["groupId"])
    assert group["status"] == "partial"
    assert (group["completedJobs"], group["failedJobs"]) == (1, 1)
    by_locale = {j["targetLocale"]: j for j in group["jobs"]}
    assert by_locale["de"]["errorMessage"] is None
    assert "ja" in by_locale["ja"]["errorMessage"]
    failed_job = await eng.job(by_locale["ja"]["id"])
    assert failed_job["status"] == "failed"
    assert failed_job["outputData"] is None
    assert failed_job["steps"][0]["status"] == "failed"

    await wait_until_async(lambda: len(receiver.received) == 2)
    payloads = {p["targetLocale"]: p for p in receiver.verified(secret)}
    assert payloads["de"]["type"] == "translation.completed"
    assert payloads["ja"]["type"] == "translation.failed"
    assert payloads["ja"]["error"] == by_locale["ja"]["errorMessage"]
    assert "data" not in payloads["ja"]
    stats = await eng.stats()
    assert (stats["jobs_completed"], stats["jobs_failed"]) == (1, 1)


async def test_all_failed_group_is_failed(eng: RunningEngine) -> None:
    await eng.knob(fail_rate=1.0, seed=3)
    created = await eng.create(targetLocales=["de", "fr"])
    group = await eng.wait_group(created["groupId"])
    assert group["status"] == "failed"
    assert all("fail_rate" in j["errorMessage"] for j in group["jobs"])


async def test_duplicate_knob_sends_the_same_webhook_id_twice(
    eng: RunningEngine, receiver: Receiver, secret: str
) -> None:
    await eng.knob(duplicate_rate=1.0)
    await eng.create(targetLocales=["de", "fr"], callbackUrl=receiver.url)
    await wait_until_async(lambda: len(receiver.received) == 4)
    assert sorted(Counter(receiver.ids()).values()) == [2, 2]
    receiver.verified(secret)
    stats = await eng.stats()
    assert (stats["deliveries_succeeded"], stats["deliveries_attempted"]) == (2, 4)


async def test_pause_deliveries_holds_then_releases(eng: RunningEngine, receiver: Receiver, secret: str) -> None:
    await eng.knob(pause_deliveries=True)
    created = await eng.create(targetLocales=["de", "fr", "es"], callbackUrl=receiver.url)
    await eng.wait_group(created["groupId"])
    stats = await eng.wait_stats(deliveries_pending=3)
    assert stats["deliveries_attempted"] == 0
    assert receiver.received == []
    await eng.knob(pause_deliveries=False)
    await eng.wait_stats(deliveries_succeeded=3, deliveries_pending=0)
    assert {p["targetLocale"] for p in receiver.verified(secret)} == {"de", "fr", "es"}


async def test_reorder_jitter_still_delivers_everything(eng: RunningEngine, receiver: Receiver, secret: str) -> None:
    await eng.knob(reorder_jitter_seconds=0.2, seed=11)
    locales = ["de", "fr", "es", "it", "nl", "pl"]
    await eng.create(targetLocales=locales, callbackUrl=receiver.url)
    await eng.wait_stats(deliveries_succeeded=6)
    assert sorted(p["targetLocale"] for p in receiver.verified(secret)) == sorted(locales)


async def test_a_hanging_receiver_does_not_block_others(eng: RunningEngine, receiver: Receiver) -> None:
    slow = Receiver(hold=asyncio.Event())
    async with serve(slow.app()) as url:
        await eng.create(targetLocales=["de"], callbackUrl=url + "/hook")
        await wait_until_async(lambda: len(slow.received) == 1)  # the slow one is now hanging
        await eng.create(targetLocales=["fr"], callbackUrl=receiver.url)
        await wait_until_async(lambda: len(receiver.received) == 1)
        stats = await eng.stats()
        assert (stats["deliveries_succeeded"], stats["deliveries_pending"]) == (1, 1)
        assert slow.hold is not None
        slow.hold.set()
        await eng.wait_stats(deliveries_succeeded=2, deliveries_pending=0)


async def test_a_burst_reuses_a_bounded_set_of_kept_alive_connections(
    eng: RunningEngine, receiver: Receiver, secret: str
) -> None:
    """40 results at once reach the receiver over at most DELIVERY_CONNECTIONS connections.

    httpx's default pool keeps 20 of up to 100 connections, so a burst opened a connection per
    delivery beyond the 20th and closed it again: a handshake and a teardown each for the daemon.
    """
    await eng.knob(pause_deliveries=True)
    locales = ["de", "fr", "es", "it", "nl", "pl", "pt", "sv"]
    for n in range(5):
        await eng.create(targetLocales=locales, data={"n": n}, callbackUrl=receiver.url)
    await eng.knob(pause_deliveries=False)
    await eng.wait_stats(deliveries_succeeded=40, deliveries_pending=0)
    assert len(receiver.verified(secret)) == 40
    peers = {r.peer for r in receiver.received}
    assert None not in peers
    assert 1 <= len(peers) <= DELIVERY_CONNECTIONS


async def test_a_delivery_waiting_for_a_slot_is_signed_only_when_it_is_sent(
    eng: RunningEngine, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed before the wait, a delivery queued behind a stalled receiver would carry an old
    timestamp, and the receiver refuses one older than its tolerance (an attempt lost)."""
    signed: list[str] = []

    def signing(secret_: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        signed.append(webhook_id)
        return signed_headers(secret_, webhook_id, timestamp, body)

    monkeypatch.setattr(delivery_module, "DELIVERY_CONNECTIONS", 1)
    monkeypatch.setattr(delivery_module, "signed_headers", signing)
    slow = Receiver(hold=asyncio.Event())
    async with serve(slow.app()) as url:
        await eng.create(targetLocales=["de", "fr"], callbackUrl=url + "/hook")
        await wait_until_async(lambda: len(slow.received) == 1)  # holds the one slot
        assert len(signed) == 1
        assert slow.hold is not None
        slow.hold.set()
        await eng.wait_stats(deliveries_succeeded=2, deliveries_pending=0)
    assert sorted(signed) == sorted(slow.ids())
    assert len(slow.verified(secret)) == 2


async def test_latency_knob_delays_jobs(eng: RunningEngine) -> None:
    await eng.knob(latency_seconds=0.3)
    started = time.monotonic()
    created = await eng.create(targetLocales=["de", "fr"])
    assert (await eng.group(created["groupId"]))["pendingJobs"] == 2
    await eng.wait_group(created["groupId"])
    assert time.monotonic() - started >= 0.3
