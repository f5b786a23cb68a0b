"""SIGKILL or SIGTERM of ``locsync run`` in the middle of a burst of concurrent webhook deliveries:
every delivery answered 2xx is in the inbox afterwards (group commit answers only after COMMIT),
and a SIGTERM still ends in exit 0 while deliveries keep arriving."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from daemon.webhooks.signatures import signed_headers
from tests.e2e.harness import WEBHOOK_SECRET, Project


async def burst(url: str, answered: list[str], stop_after: int, kill: asyncio.Event) -> None:
    """Eight connections sending unique deliveries until the daemon dies under them."""
    counter = iter(range(10**6))

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            n = next(counter)
            body = json.dumps({"type": "translation.completed", "jobId": f"ljb_crash{n}",
                               "targetLocale": "de", "data": {"k": "v"}}).encode()
            headers = signed_headers(WEBHOOK_SECRET, f"msg_crash{n}", int(time.time()), body)
            try:
                response = await client.post("/webhooks/lingo", content=body,
                                             headers={**headers, "content-type": "application/json"})
            except httpx.TransportError:
                return  # killed: this one was never answered
            if response.status_code == 503 and kill.is_set():
                return  # stopping: refused, so the sender retries later
            assert response.status_code == 200
            answered.append(headers["webhook-id"])
            if len(answered) >= stop_after:
                kill.set()

    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(8)))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_a_stop_during_a_burst_loses_no_answered_delivery(tmp_path: Path, sig: signal.Signals) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # bound, never listening: the provider is unreachable
    project = Project(tmp_path / "repo",
                      provider={"kind": "lingo", "baseUrl": f"http://127.0.0.1:{dead.getsockname()[1]}"},
                      server={"port": 0, "publicUrl": "https://test.invalid"})
    proc = project.run("run")
    answered: list[str] = []
    try:
        url = proc.wait_event("server_listening", timeout=60)["url"]
        proc.wait_event("daemon_ready", timeout=60)

        async def main() -> None:
            kill = asyncio.Event()
            sending = asyncio.create_task(burst(url, answered, 300, kill))
            await asyncio.wait({sending, asyncio.create_task(kill.wait())}, timeout=60,
                               return_when=asyncio.FIRST_COMPLETED)
            proc.proc.send_signal(sig)  # SIGKILL: the requests in flight die with it
            await asyncio.wait_for(sending, timeout=30)

        asyncio.run(main())
        assert proc.stop(timeout=30) == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
    finally:
        if proc.proc.poll() is None:
            proc.stop(signal.SIGKILL)
        dead.close()
    assert len(answered) >= 300
    with sqlite3.connect(project.root / ".locsync" / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT webhook_id FROM inbox WHERE webhook_id LIKE 'msg_crash%'")}
    assert set(answered) <= stored  # stored but unanswered ones are the sender's retries, deduplicated
