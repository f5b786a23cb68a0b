"""A cold sync in batches: submissions in flight together, results applied in chunks.

``Syncer.submit_pending`` keeps up to ``SUBMIT_CONCURRENCY`` job groups in flight and stops
a pass at a quota answer; ``Syncer.apply_received`` writes results ``APPLY_CHUNK`` at a time,
the chunk's commit intents committed before any of its files is written. Everything runs
over real parts: state in a real SQLite file, the project's reference engine on a real
uvicorn (127.0.0.1) reached through the real ``LingoProvider``, real files and real git.
Where a test holds requests open to observe or shape concurrency, its docstring says so.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from daemon import atomic
from daemon.config import LoadedConfig, load_config
from daemon.engine.app import Engine
from daemon.engine.settings import EngineSettings
from daemon.engine.translators.pseudo import pseudo_translate
from daemon.formats.base import Leaf
from daemon.gitcommit import GitRepo, GitSettings
from daemon.providers.base import GroupRef, SubmitRequest
from daemon.providers.lingo import LingoProvider
from daemon.secrets import Secret
from daemon.sources.document import Content
from daemon.sources.file_io import FileDocumentIO
from daemon.state.store import StateStore
from daemon.syncer import APPLY_CHUNK, SUBMIT_CONCURRENCY, Syncer
from tests.helpers import serve, wait_until_async

pytestmark = pytest.mark.anyio

KEY = "lsk_batches"
SECRET = "whsec_" + "YmF0Y2hlcy10ZXN0LXNlY3JldC0zMi1ieXRlcyEhISE="
SUBMIT_PATH = "/jobs/localization"
QUOTA_RETRY_AFTER = 60
HOLD_SECONDS = 3.0
"""How long a held submit waits for the others before the test gives up holding (a failure)."""


def source_of(n: int) -> dict[str, str]:
    return {"title": f"Page {n}", "body": f"Hello {{name}}, this is page {n}"}


def make_documents(root: Path, count: int, targets: tuple[str, ...]) -> LoadedConfig:
    """A git repository with ``count`` source files ``locales/en/pNN.json`` (one document each)."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "locales/en").mkdir(parents=True)
    for n in range(count):
        (root / f"locales/en/p{n:02d}.json").write_text(json.dumps(source_of(n), indent=2) + "\n")
    config = {
        "sources": [{"include": ["locales/[locale]/*.json"], "sourceLocale": "en", "targetLocales": list(targets)}],
        "provider": {"kind": "lingo"},
        "server": {"port": 0},
        "git": {"enabled": False},
    }
    (root / "locsync.yaml").write_text(json.dumps(config))
    return load_config(root / "locsync.yaml")


class FakeClock:
    """The Syncer's and the store's clock: a quota back-off passes without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    loaded: LoadedConfig
    engine: Engine
    syncer: Syncer
    store: StateStore
    clock: FakeClock


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    eng = Engine(EngineSettings(db_path=str(tmp_path / "engine.db"), webhook_secret=SECRET, api_keys=(KEY,)))
    await eng.start()
    try:
        yield eng
    finally:
        await eng.stop()


@asynccontextmanager
async def rig(
    tmp_path: Path, engine: Engine, *, documents: int, targets: tuple[str, ...],
    app: ASGIApp | None = None, provider_class: type[LingoProvider] = LingoProvider, git: bool = False,
) -> AsyncIterator[Rig]:
    """A Syncer over a real state file and the reference engine (``app``: the engine behind a wrapper)."""
    loaded = make_documents(tmp_path / "repo", documents, targets)
    clock = FakeClock()
    store = StateStore(loaded.state_path, clock=clock)
    repo = GitRepo(loaded.root, GitSettings()) if git else None
    async with serve(app or engine.app) as url:
        provider = provider_class(url, Secret(KEY))
        syncer = Syncer(loaded, store, provider, callback_url=None, git=repo, clock=clock, rng=random.Random(1))
        try:
            yield Rig(loaded, engine, syncer, store, clock)
        finally:
            await syncer.aclose()
            await provider.aclose()
            store.close()


async def queue_all(r: Rig, documents: int) -> None:
    report = await r.syncer.scan()
    assert not report.errors
    assert len(r.store.pending_submissions()) == documents


async def receive_all(r: Rig, documents: int, targets: tuple[str, ...]) -> int:
    """Queue, submit and fetch back (polling mode) every document's results; none applied yet."""
    await queue_all(r, documents)
    assert await r.syncer.submit_pending() is None
    total = documents * len(targets)
    await wait_until_async(lambda: r.engine.stats()["jobs_completed"] == total)
    assert await r.syncer.catch_up() == total
    assert len(r.store.jobs(states=("received",))) == total
    return total


def expected_target(n: int, locale: str) -> dict[str, str]:
    return {key: pseudo_translate(value, locale) for key, value in source_of(n).items()}


def git_out(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


# --- submit_pending: concurrency -----------------------------------------------------------


class InFlightProvider(LingoProvider):
    """The real LingoProvider to the real engine, counting the submits in flight.

    A stand-in only in that it observes: each submit is held (on an ``asyncio.Event``) until
    ``SUBMIT_CONCURRENCY`` of them are in flight, which the engine alone answers too fast to
    show. Once that many have met, nothing is held any more.
    """

    def __init__(self, base_url: str, api_key: Secret) -> None:
        super().__init__(base_url, api_key)
        self.in_flight = 0
        self.most_in_flight = 0
        self.keys: list[str] = []
        self.met = asyncio.Event()

    async def submit(self, request: SubmitRequest) -> GroupRef:
        self.keys.append(request.idempotency_key)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= SUBMIT_CONCURRENCY:
            self.met.set()
        try:
            try:
                await asyncio.wait_for(self.met.wait(), HOLD_SECONDS)
            except TimeoutError:
                self.met.set()  # fewer than SUBMIT_CONCURRENCY ever met: stop holding (the test fails)
            return await super().submit(request)
        finally:
            self.in_flight -= 1


async def test_submits_run_concurrently_up_to_the_limit_each_exactly_once(tmp_path: Path, engine: Engine) -> None:
    documents, targets = 20, ("de", "fr")
    async with rig(tmp_path, engine, documents=documents, targets=targets, provider_class=InFlightProvider) as r:
        provider = r.syncer.provider
        assert isinstance(provider, InFlightProvider)
        await queue_all(r, documents)
        queued = {sub.idempotency_key: sub for sub in r.store.pending_submissions()}
        assert len(queued) == documents  # one key per submission

        assert await r.syncer.submit_pending() is None

        assert 1 < provider.most_in_flight == SUBMIT_CONCURRENCY == 8
        assert provider.in_flight == 0
        assert sorted(provider.keys) == sorted(queued)  # each submitted once, with its own key
        stats = engine.stats()
        assert stats["groups_created"] == documents and stats["idempotent_replays"] == 0
        assert r.store.pending_submissions() == []
        subs = r.store.submissions()
        assert all(sub.state == "submitted" and sub.attempts == 1 and sub.group_id for sub in subs)
        assert len({sub.group_id for sub in subs}) == documents
        for sub in subs:
            jobs = r.store.jobs(document=sub.document)
            assert sorted(job.locale for job in jobs) == sorted(targets)
            assert all(job.group_id == sub.group_id and job.version == sub.version for job in jobs)
            assert all(job.state == "open" for job in jobs)
        assert await r.syncer.submit_pending() is None  # nothing left: nothing sent again
        assert len(provider.keys) == documents


class FailsFirst(LingoProvider):
    """The real LingoProvider, except that its first submit raises what a bug (or a failing
    disk) would: not a ``ProviderError``. A stand-in: the engine has no such failure."""

    def __init__(self, base_url: str, api_key: Secret) -> None:
        super().__init__(base_url, api_key)
        self.calls = 0

    async def submit(self, request: SubmitRequest) -> GroupRef:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(0)  # let the other workers start their submits first
            raise RuntimeError("boom")
        return await super().submit(request)


async def test_an_unexpected_error_in_one_submit_stops_the_whole_pass(tmp_path: Path, engine: Engine) -> None:
    documents = 20
    async with rig(tmp_path, engine, documents=documents, targets=("de",), provider_class=FailsFirst) as r:
        await queue_all(r, documents)
        with pytest.raises(RuntimeError, match="boom"):
            await r.syncer.submit_pending()
        settled = len(r.store.pending_submissions())
        for _ in range(20):  # were workers left running, they would go on submitting now
            await asyncio.sleep(0)
        assert len(r.store.pending_submissions()) == settled
        assert settled >= documents - SUBMIT_CONCURRENCY  # at most the ones already in flight went
        assert await r.syncer.submit_pending() is None  # the next pass sends the rest, each once
        assert engine.stats()["groups_created"] == documents
        assert engine.stats()["idempotent_replays"] == 0


# --- submit_pending: a quota answer stops the pass --------------------------------------------


class HoldAfterQuota:
    """ASGI wrapper in front of the engine that shapes the order of answers.

    The first submit goes straight through (the engine's own ``faults`` knob answers it 429);
    the submits sent beside it are held until the Syncer has recorded the quota block, so
    they are answered after the 429 as a slower provider would answer them. Only while
    ``holding``; it also counts the submits that reach the engine.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.submits = 0
        self.holding = True
        self.released: Callable[[], bool] = lambda: True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == SUBMIT_PATH:
            self.submits += 1
            if self.holding and self.submits > 1:
                await wait_until_async(self.released, timeout=HOLD_SECONDS)
        await self.app(scope, receive, send)


@contextmanager
def quota_on_first_submit(engine: Engine) -> Iterator[None]:
    engine.update_knobs({"faults": [{"method": "POST", "path": SUBMIT_PATH, "count": 1, "kind": "status",
                                     "status": 429, "retry_after": QUOTA_RETRY_AFTER}]})
    yield
    assert engine.knobs.faults == []  # the fault was used


async def quota_pass(r: Rig, gate: HoldAfterQuota, documents: int) -> None:
    """Queue ``documents`` submissions and run one pass whose first submit meets a quota answer."""
    gate.released = lambda: r.syncer.health.blocked_until > 0
    await queue_all(r, documents)
    with quota_on_first_submit(r.engine):
        wait = await r.syncer.submit_pending()
    gate.holding = False
    assert wait == pytest.approx(QUOTA_RETRY_AFTER)  # the blocked wait is the next due


async def test_a_quota_answer_stops_the_pass_and_the_rest_go_after_the_block(
    tmp_path: Path, engine: Engine
) -> None:
    documents = 20
    gate = HoldAfterQuota(engine.app)
    async with rig(tmp_path, engine, documents=documents, targets=("de",), app=gate) as r:
        await quota_pass(r, gate, documents)

        # the SUBMIT_CONCURRENCY submits started together reached the engine; no other did
        assert gate.submits == SUBMIT_CONCURRENCY
        subs = r.store.submissions()
        quota = [s for s in subs if s.state == "pending" and s.attempts == 1]
        accepted = [s for s in subs if s.state == "submitted"]
        untouched = [s for s in subs if s.state == "pending" and s.attempts == 0]
        assert len(quota) == 1 and "429" in (quota[0].last_error or "")
        assert quota[0].next_attempt_at == pytest.approx(r.clock.now + QUOTA_RETRY_AFTER)
        assert len(accepted) == SUBMIT_CONCURRENCY - 1
        assert engine.stats()["groups_created"] == SUBMIT_CONCURRENCY - 1
        assert len(untouched) == documents - SUBMIT_CONCURRENCY
        assert all(s.last_error is None and s.group_id is None for s in untouched)

        r.clock.now += QUOTA_RETRY_AFTER  # the block is over
        assert await r.syncer.submit_pending() is None
        assert gate.submits == documents + 1  # the rest once each, the refused one again
        assert r.store.pending_submissions() == []
        assert engine.stats()["groups_created"] == documents
        assert engine.stats()["idempotent_replays"] == 0
        assert len(r.store.jobs(states=("open",))) == documents


async def test_the_quota_block_holds_for_the_next_pass_too(tmp_path: Path, engine: Engine) -> None:
    documents = 20
    gate = HoldAfterQuota(engine.app)
    async with rig(tmp_path, engine, documents=documents, targets=("de",), app=gate) as r:
        await quota_pass(r, gate, documents)
        assert gate.submits == SUBMIT_CONCURRENCY

        r.clock.now += 1  # a pass well inside the block (a scan queued work, a webhook woke the loop)
        wait = await r.syncer.submit_pending()
        assert gate.submits == SUBMIT_CONCURRENCY, "rows were submitted while the quota block lasts"
        assert wait == pytest.approx(QUOTA_RETRY_AFTER - 1)
        assert r.syncer.health.blocked_until == pytest.approx(r.clock.now + QUOTA_RETRY_AFTER - 1)
        assert "429" in (r.syncer.health.last_error or ""), "status must keep naming the quota while blocked"


# --- apply_received: chunks ---------------------------------------------------------------


async def test_more_results_than_a_chunk_are_applied_in_one_pass_and_committed_together(
    tmp_path: Path, engine: Engine
) -> None:
    documents, targets = 35, ("de", "fr")
    async with rig(tmp_path, engine, documents=documents, targets=targets, git=True) as r:
        root = r.loaded.root
        git_out(root, "add", "locales", "locsync.yaml")
        git_out(root, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "-m", "sources")
        total = await receive_all(r, documents, targets)
        assert total > APPLY_CHUNK
        assert r.store.pending_commits() == []

        assert await r.syncer.apply_received() == total

        paths = {f"locales/{locale}/p{n:02d}.json" for n in range(documents) for locale in targets}
        for n in range(documents):
            for locale in targets:
                written = json.loads((root / f"locales/{locale}/p{n:02d}.json").read_text())
                assert written == expected_target(n, locale)
        assert {job.state for job in r.store.jobs()} == {"applied"}
        pending = r.store.pending_commits()
        assert {row.path for row in pending} == paths and len(pending) == total
        by_path = {row.path: row for row in pending}
        for job in r.store.jobs():
            row = by_path[job.document.replace("[locale]", job.locale)]
            assert (row.document, row.locale, row.group_id) == (job.document, job.locale, job.group_id)

        sha = await r.syncer.commit_pending()
        assert sha is not None
        assert r.store.pending_commits() == []
        assert set(git_out(root, "show", "--name-only", "--format=", "HEAD").split()) == paths
        assert git_out(root, "rev-list", "--count", "HEAD").strip() == "2"  # the sources, then one commit
        # a subject names a few documents and counts the rest; the trailers name every one
        assert git_out(root, "log", "-1", "--format=%s").strip() == (
            "locsync: update locales/[locale]/p00.json, locales/[locale]/p01.json and 33 more documents (de, fr)")
        trailers = git_out(root, "log", "-1", "--format=%(trailers:key=Locsync-Document,valueonly)").split()
        assert len(trailers) == documents
        assert git_out(root, "status", "--porcelain", "--", "locales").strip() == ""


async def test_a_result_that_cannot_be_applied_leaves_its_file_out_of_git_and_the_rest_goes_on(
    tmp_path: Path, engine: Engine
) -> None:
    """A translator's half-edited (unparsable) target and a target whose keys clash with the
    result: both results wait (kept, retried), their files are not committed under locsync's
    name, and every other result of the chunk is applied and committed."""
    documents, targets = 6, ("de",)
    async with rig(tmp_path, engine, documents=documents, targets=targets, git=True) as r:
        root = r.loaded.root
        git_out(root, "add", "locales", "locsync.yaml")
        git_out(root, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "-m", "sources")
        total = await receive_all(r, documents, targets)
        (root / "locales/de").mkdir(exist_ok=True)
        broken = root / "locales/de/p01.json"
        broken.write_text('{\n  "title": "Titel von Hand",\n')  # a save in the middle of an edit
        clash = root / "locales/de/p03.json"
        clash.write_text(json.dumps({"title": {"nested": "x"}}) + "\n")  # "title" cannot hold a value

        assert await r.syncer.apply_received() == total - 2

        states = {job.document: job.state for job in r.store.jobs()}
        assert states.pop("locales/[locale]/p01.json") == "received"
        assert states.pop("locales/[locale]/p03.json") == "received"
        assert set(states.values()) == {"applied"}
        pending = {row.path for row in r.store.pending_commits()}
        assert pending == {f"locales/de/p{n:02d}.json" for n in range(documents)} - {
            "locales/de/p01.json", "locales/de/p03.json"}
        assert await r.syncer.commit_pending() is not None
        committed = set(git_out(root, "show", "--name-only", "--format=", "HEAD").split())
        assert committed == pending
        assert broken.read_text() == '{\n  "title": "Titel von Hand",\n'  # untouched, and not committed
        assert "?? locales/de/p01.json" in git_out(root, "status", "--porcelain", "--", "locales")


async def test_an_unforeseen_error_keeps_the_jobs_before_it_and_undoes_its_own_records(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the middle of a chunk (here: recording one job's keys fails after its first
    write) propagates, but the jobs before it stay applied, and the failing job's half-done
    records are undone (it is retried whole)."""
    documents, targets = 6, ("de",)
    async with rig(tmp_path, engine, documents=documents, targets=targets) as r:
        total = await receive_all(r, documents, targets)
        order = [job.document for job in r.store.jobs(states=("received",))]
        real_forget = r.store.job_applied

        def failing(job_id: str) -> None:
            job = r.store.job(job_id)
            assert job is not None
            if job.document == order[3]:
                raise RuntimeError("bug")
            real_forget(job_id)

        monkeypatch.setattr(r.store, "job_applied", failing)
        with pytest.raises(RuntimeError, match="bug"):
            await r.syncer.apply_received()
        states = {job.document: job.state for job in r.store.jobs()}
        assert [states[d] for d in order] == ["applied"] * 3 + ["received"] * (total - 3)
        records = r.store.locale_records(order[3], "de")
        assert all(rec.written_hash is None for rec in records.values()), "the failing job's records were kept"
        monkeypatch.setattr(r.store, "job_applied", real_forget)
        assert await r.syncer.apply_received() == total - 3


@dataclass
class Seen:
    """What a separate connection to the state file saw at one target write."""

    path: str
    intents: set[str]
    applied: int


async def test_a_chunks_commit_intents_are_durable_before_its_first_file_is_written(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each target write first looks at the state file through its own sqlite3 connection,
    which sees only what is committed: the chunk's intents must be there already; the
    chunk's records (jobs applied) only once the whole chunk is done."""
    documents, targets = 35, ("de", "fr")
    async with rig(tmp_path, engine, documents=documents, targets=targets) as r:
        total = await receive_all(r, documents, targets)
        jobs = r.store.jobs(states=("received",))  # the order apply_received takes them in
        chunks = [jobs[:APPLY_CHUNK], jobs[APPLY_CHUNK:]]
        assert len(chunks[1]) == total - APPLY_CHUNK > 0
        chunk_paths = [{job.document.replace("[locale]", job.locale) for job in chunk} for chunk in chunks]

        other = sqlite3.connect(str(r.loaded.state_path), isolation_level=None)
        seen: list[Seen] = []
        original: Callable[..., Awaitable[bool]] = FileDocumentIO.write_target

        async def looking_first(
            self: FileDocumentIO, locale: str, values: dict[str, Leaf], *, source: Content, target: Content | None
        ) -> bool:
            intents = {str(p) for (p,) in other.execute("SELECT path FROM pending_commits")}
            (applied,) = other.execute("SELECT COUNT(*) FROM jobs WHERE state = 'applied'").fetchone()
            seen.append(Seen(self.relpath(locale), intents, int(applied)))
            return await original(self, locale, values, source=source, target=target)

        monkeypatch.setattr(FileDocumentIO, "write_target", looking_first)
        try:
            assert await r.syncer.apply_received() == total
        finally:
            other.close()

        assert len(seen) == total
        first, last_of_first, first_of_second = seen[0], seen[APPLY_CHUNK - 1], seen[APPLY_CHUNK]
        # before the first write: the whole first chunk's intents committed, and only that chunk's
        assert first.intents == chunk_paths[0]
        assert all(s.path in s.intents for s in seen)
        # the first chunk's records are one transaction: none visible while it runs
        assert first.applied == 0 and last_of_first.applied == 0
        assert all(s.intents == chunk_paths[0] for s in seen[:APPLY_CHUNK])
        # the second chunk starts after the first committed its records, with its own intents
        assert first_of_second.applied == APPLY_CHUNK
        assert first_of_second.intents == chunk_paths[0] | chunk_paths[1]
        assert [s.path for s in seen[APPLY_CHUNK:]] == [
            job.document.replace("[locale]", job.locale) for job in chunks[1]
        ]
        assert {job.state for job in r.store.jobs()} == {"applied"}
        assert {row.path for row in r.store.pending_commits()} == chunk_paths[0] | chunk_paths[1]


async def test_a_chunks_folders_are_synced_before_its_records_commit(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each folder fsync looks at the state file through its own connection: a chunk's records
    (jobs applied) must not be committed before the renames they describe are durable, and
    each folder is synced once per chunk, not once per file."""
    documents, targets = 35, ("de", "fr")
    async with rig(tmp_path, engine, documents=documents, targets=targets) as r:
        total = await receive_all(r, documents, targets)
        jobs = r.store.jobs(states=("received",))  # the order apply_received takes them in
        expected = [(locale, 0) for locale in sorted({job.locale for job in jobs[:APPLY_CHUNK]})]
        expected += [(locale, APPLY_CHUNK) for locale in sorted({job.locale for job in jobs[APPLY_CHUNK:]})]
        other = sqlite3.connect(str(r.loaded.state_path), isolation_level=None)
        synced: list[tuple[str, int]] = []
        real = atomic._fsync_dir

        def looking_first(folder: Path) -> None:
            (applied,) = other.execute("SELECT COUNT(*) FROM jobs WHERE state = 'applied'").fetchone()
            synced.append((folder.name, int(applied)))
            real(folder)

        monkeypatch.setattr(atomic, "_fsync_dir", looking_first)
        try:
            assert await r.syncer.apply_received() == total
        finally:
            other.close()
        # two chunks (64 + 6 files), each folder of a chunk synced once, before that chunk commits
        assert synced == expected
        assert len(synced) < total / 10
        assert {job.state for job in r.store.jobs()} == {"applied"}
