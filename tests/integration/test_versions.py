"""Versions and idempotency against the reference engine over real HTTP (polling mode)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from daemon.config import LoadedConfig
from daemon.engine.app import Engine
from daemon.engine.settings import EngineSettings, Knobs
from daemon.engine.translators.pseudo import pseudo_translate
from daemon.providers.base import SubmitRequest
from daemon.runtime import wired
from tests.helpers import serve, wait_until_async
from tests.integration.conftest import make_project

pytestmark = pytest.mark.anyio
KEY = "lsk_versions"
SECRET = "whsec_" + "dmVyc2lvbnMtdGVzdC1zZWNyZXQtMzItYnl0ZXMhISE="


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[tuple[Engine, str]]:
    engine = Engine(EngineSettings(db_path=str(tmp_path / "engine.db"), webhook_secret=SECRET, api_keys=(KEY,)),
                    Knobs(pause_processing=True))
    await engine.start()
    try:
        async with serve(engine.app) as url:
            yield engine, url
    finally:
        await engine.stop()


@pytest.fixture
def two_keys(tmp_path: Path, engine: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch) -> LoadedConfig:
    """A project with two source keys whose provider is the engine."""
    monkeypatch.setenv("LINGO_API_KEY", KEY)
    return make_project(tmp_path / "repo", {"a": "One", "b": "Two"}, provider={"kind": "lingo", "baseUrl": engine[1]})


async def test_result_for_version_n_after_n_plus_1_does_not_overwrite_changed_keys(
    engine: tuple[Engine, str], two_keys: LoadedConfig
) -> None:
    eng, _url = engine
    loaded = two_keys
    async with wired(loaded) as wiring:
        assert wiring.polling
        syncer = wiring.syncer
        await syncer.scan()
        await syncer.submit_pending()
        (loaded.root / "locales/en.json").write_text(json.dumps({"a": "One, changed", "b": "Two"}) + "\n")
        await syncer.scan()
        await syncer.submit_pending()
        jobs = {job.version: job for job in wiring.store.jobs()}
        assert sorted(jobs) == [1, 2]
        eng.update_knobs({"pause_processing": False})
        await wait_until_async(lambda: eng.stats()["jobs_completed"] == 2)

        for version in (2, 1):  # the newer result lands first, the older one after it
            result = await wiring.provider.get_job(jobs[version].job_id)
            assert wiring.store.job_received(result.job_id, result.status, result.output, None)
            assert await syncer.apply_received() == 1

        de = json.loads((loaded.root / "locales/de.json").read_text())
        assert de == {"a": pseudo_translate("One, changed", "de"), "b": pseudo_translate("Two", "de")}
        why = wiring.store.locale_record("locales/[locale].json", "de", "b")
        assert why is not None and why.written_version == 1 and why.provenance == "machine"


async def test_resubmission_after_a_crash_reuses_the_group(
    tmp_path: Path, engine: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    eng, url = engine
    monkeypatch.setenv("LINGO_API_KEY", KEY)
    loaded = make_project(tmp_path / "repo", {"a": "One"}, provider={"kind": "lingo", "baseUrl": url})
    async with wired(loaded) as wiring:
        await wiring.syncer.scan()
        (pending,) = wiring.store.pending_submissions()
        body = pending.request
        # the request reached the provider, then the daemon died before recording the 202
        first = await wiring.provider.submit(SubmitRequest(
            body["sourceLocale"], tuple(body["targetLocales"]), body["data"], pending.idempotency_key))
        await wiring.syncer.submit_pending()
        (job,) = wiring.store.jobs()
        assert job.group_id == first.group_id
        stats = eng.stats()
        assert stats["groups_created"] == 1 and stats["idempotent_replays"] == 1
        assert stats["idempotency_conflicts"] == 0

        eng.update_knobs({"pause_processing": False})
        await wait_until_async(lambda: eng.stats()["jobs_completed"] == 1)
        assert await wiring.syncer.catch_up(walk_list=True) == 1
        assert await wiring.syncer.apply_received() == 1
        assert json.loads((loaded.root / "locales/de.json").read_text()) == {"a": pseudo_translate("One", "de")}


async def test_state_database_lost_same_content_same_key_new_content_new_key(
    tmp_path: Path, engine: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    eng, url = engine
    monkeypatch.setenv("LINGO_API_KEY", KEY)
    loaded = make_project(tmp_path / "repo", {"a": "One"}, provider={"kind": "lingo", "baseUrl": url})
    keys = []
    for text in ("One", "One", "Uno"):
        (loaded.root / "locales/en.json").write_text(json.dumps({"a": text}) + "\n")
        loaded.state_path.unlink(missing_ok=True)
        async with wired(loaded) as wiring:
            await wiring.syncer.scan()
            await wiring.syncer.submit_pending()
            (sub,) = wiring.store.submissions()
            keys.append(sub.idempotency_key)
    assert keys[0] == keys[1] != keys[2]
    stats = eng.stats()
    assert stats["groups_created"] == 2 and stats["idempotent_replays"] == 1 and stats["idempotency_conflicts"] == 0


async def test_a_queued_version_lost_to_a_power_cut_is_queued_again_with_the_same_key(two_keys: LoadedConfig) -> None:
    """The scan's outbox transaction skips its own fsync: losing it before any submit is harmless.

    The state file is put back as a power cut right after the scan could leave it (the
    transaction never reached the disk); the next scan queues the same version with the same
    idempotency key. (Once submitting starts, the rows are on disk first: the next test.)
    """
    loaded = two_keys
    state = loaded.state_path
    async with wired(loaded) as wiring:
        wiring.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = state.read_bytes()
        statements: list[str] = []
        wiring.store.conn.set_trace_callback(statements.append)
        await wiring.syncer.scan()
        wiring.store.conn.set_trace_callback(None)
        (first,) = wiring.store.pending_submissions()
    queued = next(n for n, s in enumerate(statements) if s.lstrip().startswith("INSERT OR IGNORE INTO submissions"))
    levels = [s for s in statements[:queued] if s.startswith("PRAGMA synchronous")]
    assert levels[-1:] == ["PRAGMA synchronous=NORMAL"]
    assert "PRAGMA synchronous=FULL" in statements[queued:]  # and back to FULL after it

    for leftover in (state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")):
        leftover.unlink(missing_ok=True)
    state.write_bytes(before)
    async with wired(loaded) as wiring:
        assert wiring.store.pending_submissions() == []
        await wiring.syncer.scan()
        (again,) = wiring.store.pending_submissions()
    assert (again.version, again.idempotency_key, again.request) == (first.version, first.idempotency_key, first.request)


async def test_queued_versions_are_on_disk_before_the_provider_hears_of_them(
    two_keys: LoadedConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    async with wired(two_keys) as wiring:
        await wiring.syncer.scan()
        make_durable, submit = wiring.store.make_durable, wiring.syncer.provider.submit

        def durable() -> None:
            events.append("durable")
            make_durable()

        async def submitting(request: SubmitRequest) -> object:
            events.append("post")
            return await submit(request)

        monkeypatch.setattr(wiring.store, "make_durable", durable)
        monkeypatch.setattr(wiring.syncer.provider, "submit", submitting)
        await wiring.syncer.submit_pending()
        assert events == ["durable", "post"]
        await wiring.syncer.submit_pending()  # nothing due: no fsync for nothing
        assert events == ["durable", "post"]
