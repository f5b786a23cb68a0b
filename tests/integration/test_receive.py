"""Webhook deliveries against the daemon's real HTTP app, with the embedded engine translating.

Forged, stale, malformed and oversized deliveries are refused and change nothing; a
replayed or duplicated delivery is applied once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from daemon.engine.translators.pseudo import pseudo_translate
from daemon.runtime import Wiring, wired
from daemon.webhooks.signatures import signed_headers
from tests.helpers import wait_until_async
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio
SOURCE = {"greeting": "Hello {name}", "farewell": "Goodbye"}


async def completed_delivery(wiring: Wiring) -> tuple[str, bytes]:
    """Submit the source and build the delivery the engine would send for the de job."""
    assert wiring.engine is not None
    wiring.engine.knobs.pause_deliveries = True
    await wiring.syncer.scan()
    await wiring.syncer.submit_pending()
    (job,) = wiring.store.jobs()
    await wait_until_async(lambda: wiring.engine is not None and wiring.engine.stats()["jobs_completed"] == 1)
    result = await wiring.provider.get_job(job.job_id)
    body = json.dumps({
        "type": "translation.completed", "jobId": job.job_id, "groupId": job.group_id,
        "sourceLocale": "en", "targetLocale": "de", "data": result.output,
    }).encode()
    return job.job_id, body


def secret(wiring: Wiring) -> str:
    value = wiring.store.get_meta("embedded_webhook_secret")
    assert value is not None
    return value


async def post(wiring: Wiring, body: bytes, headers: dict[str, str], content_type: str = "application/json") -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{wiring.base_url}/webhooks/lingo", content=body,
                                 headers={**headers, "content-type": content_type})


def inbox_rows(wiring: Wiring) -> int:
    return int(wiring.store.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0])


async def test_replayed_and_duplicate_deliveries_apply_once(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    async with wired(loaded) as wiring:
        job_id, body = await completed_delivery(wiring)
        headers = signed_headers(secret(wiring), "msg_one", int(time.time()), body)
        first = await post(wiring, body, headers)
        replay = await post(wiring, body, headers)
        assert first.status_code == 200 and first.json() == {"ok": True, "duplicate": False}
        assert replay.status_code == 200 and replay.json() == {"ok": True, "duplicate": True}
        assert inbox_rows(wiring) == 1

        await wiring.syncer.process_inbox()
        assert await wiring.syncer.apply_received() == 1
        de = json.loads((loaded.root / "locales/de.json").read_text())
        assert de == {"greeting": pseudo_translate("Hello {name}", "de"), "farewell": pseudo_translate("Goodbye", "de")}
        written = (loaded.root / "locales/de.json").read_bytes()

        # the same result under a new delivery id (a second channel) does not apply twice
        again = await post(wiring, body, signed_headers(secret(wiring), "msg_two", int(time.time()), body))
        assert again.status_code == 200
        await wiring.syncer.process_inbox()
        assert await wiring.syncer.apply_received() == 0
        assert (loaded.root / "locales/de.json").read_bytes() == written
        assert wiring.store.job(job_id) is not None


@pytest.mark.parametrize(
    "attack",
    ["wrong_secret", "stale", "future", "tampered", "garbled", "missing", "bad_base64", "content_type", "oversized"],
)
async def test_forged_or_malformed_deliveries_are_rejected_and_write_nothing(tmp_path: Path, attack: str) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    async with wired(loaded) as wiring:
        _job_id, body = await completed_delivery(wiring)
        now = int(time.time())
        good = signed_headers(secret(wiring), "msg_x", now, body)
        forged_secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
        cases: dict[str, tuple[bytes, dict[str, str], str, int]] = {
            "wrong_secret": (body, signed_headers(forged_secret, "msg_x", now, body), "application/json", 401),
            "stale": (body, signed_headers(secret(wiring), "msg_x", now - 301, body), "application/json", 401),
            "future": (body, signed_headers(secret(wiring), "msg_x", now + 400, body), "application/json", 401),
            "tampered": (body.replace(b"greeting", b"greetinG"), good, "application/json", 401),
            "garbled": (body, {**good, "webhook-signature": "v1"}, "application/json", 401),
            "missing": (body, {"webhook-id": "msg_x"}, "application/json", 401),
            "bad_base64": (body, {**good, "webhook-signature": "v1,!!!not base64!!!"}, "application/json", 401),
            "content_type": (body, good, "text/plain", 415),
            "oversized": (b"{" + b" " * 2_000_000 + b"}", good, "application/json", 413),
        }
        payload, headers, content_type, expected = cases[attack]
        response = await post(wiring, payload, headers, content_type)
        assert response.status_code == expected
        assert inbox_rows(wiring) == 0
        await wiring.syncer.process_inbox()
        assert await wiring.syncer.apply_received() == 0
        assert not (loaded.root / "locales/de.json").exists()
        assert wiring.receiver.counts.get("accepted", 0) == 0


async def test_signed_delivery_for_a_job_we_never_submitted_is_set_aside(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "repo", SOURCE)
    async with wired(loaded) as wiring:
        body = json.dumps({"type": "translation.completed", "jobId": "ljb_notours", "groupId": "ljg_x",
                           "targetLocale": "../../etc", "data": {"greeting": "pwned"}}).encode()
        response = await post(wiring, body, signed_headers(secret(wiring), "msg_z", int(time.time()), body))
        assert response.status_code == 200  # authentic but unusable: 2xx so the sender stops retrying
        await wiring.syncer.process_inbox()
        outcome = wiring.store.conn.execute("SELECT outcome FROM inbox").fetchone()[0]
        assert outcome.startswith("set_aside: unknown job")
        assert not (loaded.root / "locales/de.json").exists()


