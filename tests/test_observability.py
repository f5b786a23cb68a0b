"""sd_notify, log format choice, metrics, readiness, and the CLI's provider client, in process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from daemon import logs, sdnotify
from daemon.engine.settings import EngineSettings
from daemon.errors import ProviderRejected, ProviderUnavailable
from daemon.health import Readiness, TrackedProvider
from daemon.live import Endpoint, GroupProgress, JobsClient, flatten_keys, follow_group, parse_since
from daemon.metrics import Metrics
from daemon.providers.base import GroupRef, JobRef, JobResult, Provider, SubmitRequest, WebhookEvent
from daemon.retry import clear_sent, plan_retry
from daemon.secrets import Secret
from daemon.state.store import StateStore
from daemon.webhooks.app import WebhookReceiver, create_app
from tests.engine.conftest import API_KEY, new_secret, running_engine
from tests.helpers import serve

# --- sd_notify ----------------------------------------------------------------------------


def test_notify_sends_datagrams_to_a_path_socket_and_does_nothing_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False
    path = tmp_path / "n.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert sdnotify.notify("STATUS=watching 3 documents, 2 groups in flight")
        assert listener.recv(100) == b"STATUS=watching 3 documents, 2 groups in flight"
        status = sdnotify.StatusLine()
        assert status.update("a") and not status.update("a") and status.update("b")
        listener.settimeout(1)
        assert [listener.recv(10), listener.recv(10)] == [b"STATUS=a", b"STATUS=b"]


def test_notify_never_blocks_when_the_listener_stops_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(tmp_path / "n.sock"))
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "n.sock"))
        started = time.monotonic()
        results = [sdnotify.notify("WATCHDOG=1") for _ in range(3000)]
        assert time.monotonic() - started < 5
        assert results[0] is True and results[-1] is False  # the queue filled up: dropped, not blocked


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "@x")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert sdnotify.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert sdnotify.watchdog_interval() is None  # armed for another process
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    monkeypatch.setenv("WATCHDOG_USEC", "garbage")
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert sdnotify.watchdog_interval() is None


# --- logs ---------------------------------------------------------------------------------


def test_json_logs_when_stderr_is_the_journal_or_not_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (tmp_path / "journal").open("w") as stream:
        stat = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
        assert logs.is_journal(stream) and logs.wants_json(stream)
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino + 1}")
        assert not logs.is_journal(stream)
        assert logs.wants_json(stream)  # a file is not a terminal either
        monkeypatch.setenv("JOURNAL_STREAM", "nonsense")
        assert not logs.is_journal(stream)


def test_each_log_event_is_one_write_of_a_whole_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unbuffered stderr (PYTHONUNBUFFERED=1) passes every write straight to the fd: one event must
    be one write, so a line is never split from its newline by another writer of the stream."""
    import logging

    import structlog

    class Raw(io.RawIOBase):
        def __init__(self) -> None:
            self.writes: list[bytes] = []

        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            self.writes.append(bytes(data))
            return len(data)

    raw = Raw()
    monkeypatch.setattr("sys.stderr", io.TextIOWrapper(raw, encoding="utf-8", write_through=True))  # type: ignore[arg-type]
    handlers, level = logging.root.handlers[:], logging.root.level  # configure() sets up logging too
    try:
        logs.configure(json_output=True, level="info")
        log = structlog.get_logger("locsync.test")
        log.info("webhook_received", webhook_id="msg_1", body_bytes=10)
        log.warning("webhook_set_aside", webhook_id="msg_1", reason="unknown job ljb_1")
        log.debug("not_shown")
    finally:
        structlog.reset_defaults()
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)
    assert len(raw.writes) == 2
    events = [json.loads(write) for write in raw.writes]
    assert all(write.endswith(b"}\n") for write in raw.writes)
    assert [(e["event"], e["level"]) for e in events] == [("webhook_received", "info"), ("webhook_set_aside", "warning")]


# --- metrics and readiness ------------------------------------------------------------------


def test_metrics_registry_counts_and_times_without_created_series() -> None:
    now = [100.0]
    metrics = Metrics(clock=lambda: now[0])
    metrics.watch_jobs(lambda: {("applied", "completed"): 3, ("open", "processing"): 1})
    metrics.webhook("accepted")
    metrics.webhook("rejected", "bad_signature")
    metrics.result_arrived("ljb_1", "webhook")
    metrics.result_arrived("ljb_1", "catchup")  # the first arrival wins
    now[0] = 100.5
    metrics.results_written(["ljb_1", "ljb_unknown"])
    metrics.git_commits.inc()
    text = metrics.render().decode()
    assert "_created" not in text
    assert 'locsync_jobs{state="applied",status="completed"} 3.0' in text
    assert 'locsync_webhook_deliveries_total{reason="bad_signature",result="rejected"} 1.0' in text
    assert 'locsync_writeback_latency_seconds_count{channel="webhook"} 1.0' in text
    assert 'locsync_writeback_latency_seconds_sum{channel="webhook"} 0.5' in text
    assert "locsync_git_commits_total 1.0" in text
    assert list(metrics.tracked()) == []


class FakeProvider(Provider):
    name = "fake"

    def __init__(self) -> None:
        self.fail = False
        self.closed_pages = 0

    @classmethod
    def from_config(cls, config: Any, api_key: Secret) -> Provider:
        return cls()

    async def submit(self, request: SubmitRequest) -> GroupRef:
        return GroupRef("ljg_1", "pending", ())

    async def get_group(self, group_id: str) -> GroupRef:
        raise AssertionError

    async def get_job(self, job_id: str) -> JobResult:
        raise AssertionError

    async def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        try:
            for i in range(5):
                yield JobRef(f"ljb_{i}", "de", "completed")
        finally:
            self.closed_pages += 1

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        raise ValueError

    async def check(self) -> None:
        if self.fail:
            raise ProviderUnavailable("fake", None, "ConnectError on GET /jobs/localization")

    async def aclose(self) -> None:
        return None



@pytest.mark.anyio
async def test_readiness_needs_reconcile_database_and_a_recent_provider_success(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    clock = [1000.0]
    readiness = Readiness(store, max_age=300, clock=lambda: clock[0])
    metrics = Metrics()
    inner = FakeProvider()
    provider = TrackedProvider(inner, readiness, metrics)
    receiver = WebhookReceiver(store, list, on_stored=lambda: None, clock=time.time, max_body_bytes=1000,
                               metrics=metrics)
    app = create_app(receiver, readyz=readiness.endpoint, metrics=metrics.endpoint)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["reasons"] == ["starting: reconciling with the provider and the files",
                                              "provider not reached yet"]
        readiness.started = True
        await provider.submit(SubmitRequest("en", ("de",), {}, "k"))
        assert (await client.get("/readyz")).status_code == 200
        clock[0] += 301
        inner.fail = True
        with pytest.raises(ProviderUnavailable):
            await provider.check()
        body = (await client.get("/readyz")).json()
        assert body["reasons"] == ["provider not reached successfully for 301s (limit 300s): "
                                   "fake: no response: ConnectError on GET /jobs/localization"]
        assert readiness.probe_due()
        pages = provider.list_jobs()
        assert isinstance(pages, AsyncGenerator)
        async with contextlib.aclosing(pages):
            async for _ref in pages:
                break  # stopping early still closes the provider's own pages
        assert inner.closed_pages == 1
        assert (await client.get("/readyz")).status_code == 200
        metrics_response = await client.get("/metrics")  # a plain route: no 307 to /metrics/
        assert metrics_response.status_code == 200
        assert metrics_response.headers["content-type"].startswith("text/plain")
        assert "locsync_groups_submitted_total 1.0" in metrics_response.text
        assert 'locsync_provider_requests_total{operation="check",outcome="error"} 1.0' in metrics_response.text
        forged = await client.post("/webhooks/lingo", content=b"{}", headers={"content-type": "application/json"})
        assert forged.status_code == 401
        assert 'result="rejected"' in (await client.get("/metrics")).text
        store.close()
        assert "state database unusable" in (await client.get("/readyz")).json()["reasons"][0]


# --- retry ------------------------------------------------------------------------------------


def test_retry_clears_exactly_the_keys_the_failed_job_carried(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    doc = "locales/[locale].json"
    store.add_submission(doc, 1, "k1", {"targetLocales": ["de", "fr"]},
                         {"de": {"a": "h1", "b": "h2"}, "fr": {"a": "h1", "b": "h2"}})
    (sub,) = store.pending_submissions()
    store.submission_accepted(sub, "ljg_1", [("ljb_de", "de", "queued"), ("ljb_fr", "fr", "queued")])
    store.job_received("ljb_fr", "failed", None, "model timeout")
    store.add_submission(doc, 2, "k2", {"targetLocales": ["fr"]}, {"fr": {"b": "h3"}})  # b was sent again since
    items = plan_retry(store)
    assert [(i.locale, i.keys, i.job_id) for i in items] == [("fr", ("a",), "ljb_fr")]
    assert plan_retry(store, locales={"de"}) == [] and plan_retry(store, document="other") == []
    clear_sent(store, items)
    assert store.locale_record(doc, "fr", "a").sent_checksum is None  # type: ignore[union-attr]
    assert store.locale_record(doc, "fr", "b").sent_checksum == "h3"  # type: ignore[union-attr]
    assert plan_retry(store) == []
    store.close()


# --- the CLI's provider client and the group WebSocket ------------------------------------------


def test_since_accepts_ages_and_iso_times_and_keys_flatten() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now=now) == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert parse_since("2d", now=now) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-20", now=now) == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2026-11-20T08:00:00Z", now=now) == datetime(2026, 11, 20, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither"):
        parse_since("last week", now=now)
    assert flatten_keys({"home": {"title": "x", "sub": {"a": "y"}}, "b": "z"}) == ["home/title", "home/sub/a", "b"]
    assert flatten_keys(None) == []
    assert Endpoint("https://api.lingo.dev", Secret("k")).ws_url("/x") == "wss://api.lingo.dev/x"
    assert Endpoint("http://127.0.0.1:1/engine", Secret("k")).ws_url("/x") == "ws://127.0.0.1:1/engine/x"


@pytest.mark.anyio
async def test_jobs_client_walks_the_cursor_and_filters(tmp_path: Path) -> None:
    settings = EngineSettings(db_path=str(tmp_path / "engine.db"), webhook_secret=new_secret(),
                              api_keys=(API_KEY,), allow_http_callbacks=True)
    async with running_engine(settings) as eng:
        created = await eng.create(targetLocales=["de", "fr", "ja"])
        await eng.wait_group(created["groupId"])
        client = JobsClient.for_endpoint(Endpoint(eng.url, Secret(API_KEY)))
        try:
            walked = [job async for job in client.walk(page_size=1)]
            assert sorted(job["targetLocale"] for job in walked) == ["de", "fr", "ja"]
            assert len([job async for job in client.walk(page_size=1, limit=2)]) == 2
            future = datetime(2999, 1, 1, tzinfo=UTC)
            assert [job async for job in client.walk(since=future)] == []
            assert [job async for job in client.walk(engine_id="eng_other")] == []
            assert len([job async for job in client.walk(engine_id="eng_reference", status="completed")]) == 3
            job = await client.job(walked[0]["id"])
            assert job["status"] == "completed" and job["steps"][0]["stage"] == "localize"
        finally:
            await client.aclose()

        # the group WebSocket: a refused key is final, not retried
        group = GroupProgress(created["groupId"], "doc", 1)
        with pytest.raises(ProviderRejected, match="refused"):
            await follow_group(Endpoint(eng.url, Secret("wrong")), group, lambda _g, _k: None)
        seen: list[str] = []
        status = await follow_group(Endpoint(eng.url, Secret(API_KEY)), group, lambda g, k: seen.append(g.line()))
        assert status == "completed"
        assert seen == ["doc v1: 3 of 3 languages ready", "doc v1: 3 of 3 languages ready; group completed"]


@pytest.mark.anyio
async def test_follow_reconnects_after_a_dropped_socket_and_loses_nothing() -> None:
    connections = []

    async def group_socket(websocket: WebSocket) -> None:
        connections.append(websocket.headers.get("x-api-key"))
        await websocket.accept()
        jobs = {"ljb_1": {"locale": "de", "status": "completed"}, "ljb_2": {"locale": "fr", "status": "processing"}}
        snapshot = {"groupId": "ljg_1", "totalJobs": 2, "completedJobs": 1, "failedJobs": 0, "jobs": jobs}
        await websocket.send_json({"type": "snapshot", "snapshot": snapshot})
        if len(connections) == 1:
            await websocket.close(1011)  # the server goes away mid-group
            return
        jobs["ljb_2"] = {"locale": "fr", "status": "failed"}
        final = {**snapshot, "failedJobs": 1, "jobs": jobs}
        await websocket.send_json({"type": "job.failed", "jobId": "ljb_2", "locale": "fr", "snapshot": final})
        await websocket.send_json({"type": "group.completed", "status": "partial", "snapshot": final})
        await websocket.close(1000)

    app = Starlette(routes=[WebSocketRoute("/jobs/localization/groups/{group_id}/ws", group_socket)])
    events: list[str] = []
    async with serve(app) as url:
        group = GroupProgress("ljg_1", "doc", 2)
        status = await follow_group(Endpoint(url, Secret("k")), group,
                                    lambda g, kind: events.append(kind if kind.startswith("reconn") else g.line()),
                                    delays=(0.01,))
    assert status == "partial"
    assert connections == ["k", "k"]
    assert events[0] == "doc v2: 1 of 2 languages ready"
    assert events[1].startswith("reconnecting in ")
    assert events[2:] == ["doc v2: 1 of 2 languages ready, 1 failed (fr)",
                          "doc v2: 1 of 2 languages ready, 1 failed (fr); group partial"]
    assert json.dumps(group.as_json("group.completed"))


def test_progress_line_is_redrawn_in_place_on_a_terminal_only() -> None:
    from daemon.progress import SyncProgress, TerminalProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    first = SyncProgress(documents=3, keys_planned=120, groups_queued=3, groups_submitted=1)
    later = SyncProgress(documents=3, keys_planned=120, groups_queued=3, groups_submitted=3, jobs_total=9, jobs_done=4)
    assert later.line() == "3 files scanned, 120 keys planned, 3/3 groups submitted, 4/9 languages done"
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = TerminalProgress(stream)
        for step in (first, first, later):
            progress(step)
        progress.close()
    assert terminal.getvalue() == f"\r{first.line()}\r{later.line()}\n"
    assert pipe.getvalue() == ""
