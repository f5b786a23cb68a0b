"""Group commit of webhook deliveries: concurrent requests share one transaction, and every
2xx still means the row is committed. Real SQLite files, real threads, the real ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from daemon.metrics import Metrics
from daemon.state.store import StateStore
from daemon.webhooks.app import GroupCommit, WebhookReceiver, create_app
from daemon.webhooks.signatures import signed_headers
from tests.helpers import wait_until_async

pytestmark = pytest.mark.anyio
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def stored_ids(path: Path) -> set[str]:
    """Read through a fresh connection: only committed rows are visible to it."""
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT webhook_id FROM inbox")}


def delivery(n: int, webhook_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"type": "translation.completed", "jobId": f"ljb_{n}", "targetLocale": "de",
                       "data": {"k": f"v{n}"}}).encode()
    headers = signed_headers(SECRET, webhook_id or f"msg_{n}", int(time.time()), body)
    return body, {**headers, "content-type": "application/json"}


async def test_concurrent_deliveries_share_commits_and_all_are_durable(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    group = GroupCommit(store)
    try:
        # Hold the database's write lock (as a long transaction of the event loop would): the
        # writer's first batch waits on it, and the deliveries queued meanwhile share the next one.
        with store.write():
            tasks = [asyncio.create_task(group.add(f"msg_{n}", b"{}", float(n))) for n in range(40)]
            await wait_until_async(lambda: group.waiting() == 40)
            assert not any(task.done() for task in tasks)  # nobody is answered before the commit
        results = await asyncio.gather(*tasks)
        assert results == [True] * 40
        assert group.commits <= 2
        assert stored_ids(tmp_path / "state.db") == {f"msg_{n}" for n in range(40)}
        # order of arrival is kept for the processor
        assert [w for w, _b in store.inbox_unprocessed()] == [f"msg_{n}" for n in range(40)]
    finally:
        group.close()
        store.close()


async def test_a_duplicate_inside_one_batch_is_stored_once(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    group = GroupCommit(store)
    try:
        with store.write():
            first = asyncio.create_task(group.add("msg_same", b"{}", 1.0))
            second = asyncio.create_task(group.add("msg_same", b"{}", 2.0))
            await wait_until_async(lambda: group.waiting() == 2)
        assert sorted(await asyncio.gather(first, second)) == [False, True]
        assert await group.add("msg_same", b"{}", 3.0) is False
        assert stored_ids(tmp_path / "state.db") == {"msg_same"}
    finally:
        group.close()
        store.close()


async def test_the_writer_thread_stops_when_idle_and_restarts_on_demand(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    group = GroupCommit(store, idle_seconds=0.05)
    try:
        assert await group.add("msg_1", b"{}", 1.0) is True
        await wait_until_async(lambda: not any(t.name == "inbox-writer" for t in threading.enumerate()))
        assert await group.add("msg_2", b"{}", 2.0) is True
        assert stored_ids(tmp_path / "state.db") == {"msg_1", "msg_2"}
    finally:
        group.close()
        store.close()
    with pytest.raises(sqlite3.OperationalError):
        await group.add("msg_3", b"{}", 3.0)


async def test_many_concurrent_requests_through_the_app_are_all_stored_before_their_200(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    woken = []
    receiver = WebhookReceiver(store, lambda: [SECRET], on_stored=lambda: woken.append(1), clock=time.time,
                               max_body_bytes=65536, metrics=Metrics())
    app = create_app(receiver)
    answered: list[str] = []

    async def send(client: httpx.AsyncClient, n: int) -> None:
        body, headers = delivery(n, "msg_dup" if n % 10 == 0 else None)
        response = await client.post("/webhooks/lingo", content=body, headers=headers)
        assert response.status_code == 200
        # the row is visible to another connection the moment its answer exists
        assert headers["webhook-id"] in stored_ids(tmp_path / "state.db")
        answered.append(headers["webhook-id"])

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            await asyncio.gather(*(send(client, n) for n in range(60)))
        assert len(answered) == 60
        ids = stored_ids(tmp_path / "state.db")
        assert ids == {*answered}
        assert len(ids) == 55  # six deliveries carried one id: stored once, five answered as duplicates
        assert receiver.counts == {"accepted": 55, "duplicate": 5}
        assert len(woken) == 55
    finally:
        receiver.close()
        store.close()


async def test_a_database_that_cannot_store_answers_503_so_the_sender_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore(tmp_path / "state.db")
    metrics = Metrics()
    receiver = WebhookReceiver(store, lambda: [SECRET], on_stored=lambda: None, clock=time.time,
                               max_body_bytes=65536, metrics=metrics)

    def full_disk(self: StateStore, deliveries: object) -> list[bool]:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(StateStore, "inbox_add_many", full_disk)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(receiver)),
                                     base_url="http://t") as client:
            body, headers = delivery(1)
            response = await client.post("/webhooks/lingo", content=body, headers=headers)
        assert response.status_code == 503
        assert response.json() == {"error": "store_unavailable"}
        assert receiver.counts == {"store_unavailable": 1}
        assert 'reason="store_unavailable",result="rejected"' in metrics.render().decode()
    finally:
        receiver.close()
        store.close()
    assert stored_ids(tmp_path / "state.db") == set()


def test_deferred_fsync_commits_are_visible_and_the_connection_is_full_again(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        store.inbox_add("msg_1", b"{}")
        with store.deferred_fsync():
            assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            store.inbox_done("msg_1", "received")
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        with sqlite3.connect(tmp_path / "state.db") as db:
            assert db.execute("SELECT outcome FROM inbox").fetchall() == [("received",)]
    finally:
        store.close()


def test_a_recorded_submission_is_committed_without_an_fsync_of_its_own(tmp_path: Path) -> None:
    """The 202 record can wait for the next durable commit (it is redone with the same key)."""
    store = StateStore(tmp_path / "state.db")
    statements: list[str] = []
    try:
        store.add_submission("doc", 1, "key-1", {"targetLocales": ["de"]}, {"de": {"k": "c"}})
        (submission,) = store.pending_submissions()
        store.conn.set_trace_callback(statements.append)
        store.submission_accepted(submission, "ljg_1", [("ljb_1", "de", "queued")])
        store.conn.set_trace_callback(None)
        levels = [s for s in statements if s.startswith("PRAGMA synchronous")]
        assert levels == ["PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"]
        assert statements.index("COMMIT") < statements.index("PRAGMA synchronous=FULL")
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
        with sqlite3.connect(tmp_path / "state.db") as db:
            assert db.execute("SELECT job_id, group_id FROM jobs").fetchall() == [("ljb_1", "ljg_1")]
    finally:
        store.close()


def test_deferred_fsync_inside_a_transaction_joins_it_and_nesting_restores_full_once(tmp_path: Path) -> None:
    """SQLite refuses to change the level inside a transaction: the block must not try."""
    store = StateStore(tmp_path / "state.db")
    level = lambda: store.conn.execute("PRAGMA synchronous").fetchone()[0]  # noqa: E731
    try:
        store.inbox_add("msg_1", b"{}")
        with store.write():
            with store.deferred_fsync():  # raised "Safety level may not be changed inside a transaction"
                store.inbox_done("msg_1", "received")
            assert level() == 2
        with store.deferred_fsync():
            with store.deferred_fsync():
                assert level() == 1
            assert level() == 1  # the inner block does not end the outer one's deferral
        assert level() == 2
        with contextlib.ExitStack() as still_open:
            with store.deferred_fsync():
                still_open.enter_context(store.write())  # a transaction open when the block ends
                store.inbox_done("msg_1", "received again")
            assert level() == 1  # SQLite cannot change it yet, and nothing is rolled back
        assert level() == 2  # restored as that transaction ended
        store.make_durable()  # an fsync of the log; harmless with nothing pending
        with sqlite3.connect(tmp_path / "state.db") as db:
            assert db.execute("SELECT outcome FROM inbox").fetchall() == [("received again",)]
    finally:
        store.close()
