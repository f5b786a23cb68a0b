"""The long-running daemon and the one-shot sync: wiring, loops, signals.

Start-up order follows docs/reliability.md: sweep leftover temp files, open the state
database, start the HTTP server (the inbox only inserts, so it may listen early), then
reconcile (re-drive the outbox, catch up with the provider, rescan every source) and only
then report READY. Each loop waits on an event with a timeout, so a webhook, a file save or
a timer all lead to the same idempotent step in ``Syncer``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import structlog
import uvicorn
from starlette.routing import Mount

from daemon.atomic import sweep_temp_files
from daemon.config import LoadedConfig
from daemon.errors import ConfigError, ConfigProblem, GitError, ProviderError
from daemon.gitcommit import GitRepo, GitSettings
from daemon.gitlocks import clear_stale_locks
from daemon.providers import provider_class
from daemon.providers.base import Provider
from daemon.providers.lingo import LingoProvider
from daemon.sdnotify import notify
from daemon.secrets import Secret, load_secret
from daemon.sources.files import prove_watching, watch_documents
from daemon.state.store import StateStore
from daemon.syncer import Syncer
from daemon.webhooks.app import WebhookReceiver, create_app

if TYPE_CHECKING:
    from daemon.engine.app import Engine

log = structlog.get_logger("locsync.runtime")
T = TypeVar("T")
INBOX_RETENTION_SECONDS = 7 * 24 * 3600


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT/SIGHUP."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Wiring:
    store: StateStore
    provider: Provider
    syncer: Syncer
    receiver: WebhookReceiver
    server: _Server
    server_task: asyncio.Task[None]
    base_url: str
    polling: bool
    engine: Engine | None


def _new_whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_or_problem(loaded: LoadedConfig, what: str, **kwargs: str | None) -> Secret | None:
    try:
        return load_secret(base=loaded.base, **kwargs)
    except ValueError as exc:
        raise ConfigError(str(loaded.path), [ConfigProblem(None, f"provider.{what}", str(exc))]) from None


@contextlib.asynccontextmanager
async def wired(loaded: LoadedConfig, *, events: Events | None = None) -> AsyncIterator[Wiring]:
    """Open state, server, provider (and the embedded engine), and close them in reverse."""
    config = loaded.config
    events = events or Events()
    removed = sweep_temp_files(loaded.root)
    if removed:
        log.info("temp_files_swept", count=len(removed))
    store = StateStore(loaded.state_path)
    provider_cfg = config.provider
    webhook_secrets: list[str] = []
    engine: Engine | None = None
    # IPPROTO_TCP (not the default 0) makes asyncio set TCP_NODELAY on accepted connections;
    # without it each webhook answer can wait ~40 ms on Nagle and delayed ACKs
    family = socket.AF_INET6 if ":" in config.server.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.server.host, config.server.port))
    except OSError as exc:
        store.close()
        raise ConfigError(
            str(loaded.path),
            [ConfigProblem(None, "server.port", f"cannot listen on {config.server.host}:{config.server.port}: "
                           f"{exc.strerror}; choose a free port")],
        ) from None
    host, port = sock.getsockname()[:2]
    local_url = f"http://{host}:{port}"
    extra_routes = []
    if provider_cfg.kind == "embedded":
        from daemon.engine.app import Engine
        from daemon.engine.settings import EngineSettings, Knobs

        webhook_secret = store.meta_or_create("embedded_webhook_secret", _new_whsec)
        api_key = store.meta_or_create("embedded_api_key", lambda: "lsk_" + secrets.token_urlsafe(24))
        openai_key = os.environ.get(provider_cfg.openai_api_key_env or "") or None
        engine = Engine(
            EngineSettings(
                db_path=str(loaded.state_path.with_name("engine.db")),
                webhook_secret=webhook_secret,
                api_keys=(api_key,),
                translator=provider_cfg.translator,
                openai_base_url=provider_cfg.openai_base_url,
                openai_model=provider_cfg.openai_model,
                openai_api_key=openai_key,
                allow_http_callbacks=True,
            ),
            Knobs(latency_seconds=provider_cfg.latency_seconds),
        )
        extra_routes.append(Mount("/engine", app=engine.app))
        webhook_secrets = [webhook_secret]
        provider: Provider = LingoProvider(f"{local_url}/engine", Secret(api_key), timeout=provider_cfg.timeout_seconds)
        callback_url: str | None = f"{local_url}/webhooks/lingo"
    else:
        api_key_secret = _secret_or_problem(
            loaded, "apiKeyEnv", env=provider_cfg.api_key_env, file=provider_cfg.api_key_file,
            credential=provider_cfg.api_key_credential,
        )
        if api_key_secret is None:
            store.close()
            sock.close()
            raise ConfigError(str(loaded.path), [ConfigProblem(
                None, "provider.apiKeyEnv",
                f"no API key: set ${provider_cfg.api_key_env} or provider.apiKeyFile")])
        webhook_secret_value = _secret_or_problem(
            loaded, "webhookSecretEnv", env=provider_cfg.webhook_secret_env,
            file=provider_cfg.webhook_secret_file, credential=provider_cfg.webhook_secret_credential,
        )
        if webhook_secret_value is not None:
            webhook_secrets = [s for s in webhook_secret_value.reveal().split() if s]
        provider = provider_class(provider_cfg.kind).from_config(provider_cfg, api_key_secret)
        public = config.server.public_url
        callback_url = f"{public}/webhooks/lingo" if public and webhook_secrets else None
        if callback_url and not callback_url.startswith("https://") and not provider_cfg.allow_http_callback:
            callback_url = None
    polling = callback_url is None
    receiver = WebhookReceiver(
        store, lambda: webhook_secrets, on_stored=events.inbox.set, clock=time.time,
        max_body_bytes=config.server.max_body_bytes,
    )
    app = create_app(receiver, extra_routes=extra_routes)
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False,
                                    ws="websockets-sansio", timeout_graceful_shutdown=5))
    server_task = asyncio.create_task(server.serve(sockets=[sock]))
    git = None
    if config.git.enabled:
        git_root = await GitRepo.find(loaded.root)
        if git_root is None:
            log.warning("git_disabled", reason=f"{loaded.root} is not inside a git repository")
        else:
            clear_stale_locks(git_root)
            git = GitRepo(git_root, GitSettings(
                author_name=config.git.author_name, author_email=config.git.author_email, skip_ci=config.git.skip_ci,
            ))
    syncer = Syncer(loaded, store, provider, callback_url=callback_url, git=git)
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if server_task.done():
                server_task.result()
                raise RuntimeError("the HTTP server stopped during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start within 10 s")
            await asyncio.sleep(0.01)
        if engine is not None:
            await engine.start()
        log.info("server_listening", url=local_url, mode="polling" if polling else "webhooks",
                 provider=provider_cfg.kind)
        yield Wiring(store, provider, syncer, receiver, server, server_task, local_url, polling, engine)
    finally:
        if engine is not None:
            await engine.stop()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server_task, timeout=10)
        await provider.aclose()
        store.close()
        sock.close()


class Events:
    """Wake-ups for the daemon's loops."""

    def __init__(self) -> None:
        self.inbox = asyncio.Event()
        self.submit = asyncio.Event()
        self.commit = asyncio.Event()
        self.stop = asyncio.Event()


async def _wait(event: asyncio.Event, timeout: float | None) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    event.clear()


class Daemon:
    """``locsync run``: watch, submit, receive, catch up, write, commit; until SIGTERM."""

    def __init__(self, loaded: LoadedConfig, *, allow_deletions: bool = False) -> None:
        self.loaded = loaded
        self.allow_deletions = allow_deletions
        self.events = Events()

    def request_stop(self) -> None:
        notify("STOPPING=1")
        log.info("stop_requested")
        self.events.stop.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        config = self.loaded.config
        async with wired(self.loaded, events=self.events) as wiring:
            self.wiring = wiring
            syncer = wiring.syncer
            debounce = config.sync.debounce_ms
            live = asyncio.Event()
            watcher = asyncio.create_task(self._watch_loop(syncer, live), name="watch")
            if not await prove_watching(syncer.sources, live, debounce_ms=debounce):
                log.warning("watcher_unconfirmed", hint="file changes may be noticed late; catch-up rescans them")
            await self._reconcile(syncer)
            notify("READY=1")
            notify(f"STATUS=watching {len(syncer.documents())} documents")
            log.info("daemon_ready", documents=len(syncer.documents()))
            catchup_every = config.sync.polling_mode_seconds if wiring.polling else config.sync.poll_seconds
            tasks = [
                watcher,
                asyncio.create_task(self._submit_loop(syncer), name="submit"),
                asyncio.create_task(self._inbox_loop(syncer), name="inbox"),
                asyncio.create_task(self._catchup_loop(syncer, catchup_every), name="catchup"),
                asyncio.create_task(self._commit_loop(syncer), name="commit"),
            ]
            await self.events.stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._flush_commits(syncer)
        log.info("daemon_stopped")
        return 0

    async def _reconcile(self, syncer: Syncer) -> None:
        await syncer.submit_pending()
        with contextlib.suppress(ProviderError):
            await syncer.catch_up(walk_list=True)
        await syncer.process_inbox()
        await syncer.apply_received()
        await syncer.scan(allow_deletions=self.allow_deletions)
        self.events.submit.set()
        self.events.commit.set()

    async def _watch_loop(self, syncer: Syncer, live: asyncio.Event) -> None:
        debounce = self.loaded.config.sync.debounce_ms
        async for touched in watch_documents(syncer.sources, debounce_ms=debounce, stop=self.events.stop, live=live):
            log.info("sources_changed", documents=sorted(doc for _, doc in touched))
            await syncer.scan(touched, allow_deletions=self.allow_deletions)
            self.events.submit.set()
            self.events.commit.set()

    async def _submit_loop(self, syncer: Syncer) -> None:
        wait: float | None = None
        while True:
            await _wait(self.events.submit, wait)
            wait = await self._guard(syncer.submit_pending(), default=None)
            self.events.inbox.set()

    async def _inbox_loop(self, syncer: Syncer) -> None:
        while True:
            await _wait(self.events.inbox, 5.0)
            await self._guard(syncer.process_inbox(), default=0)
            if await self._guard(syncer.apply_received(), default=0):
                self.events.commit.set()

    async def _catchup_loop(self, syncer: Syncer, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if await self._guard(syncer.catch_up(), default=0):
                self.events.inbox.set()
            # keep delivery ids well past any sender's retry horizon (Svix ~27 h, Stripe 3 days)
            syncer.store.inbox_prune(time.time() - INBOX_RETENTION_SECONDS)

    async def _commit_loop(self, syncer: Syncer) -> None:
        window = self.loaded.config.git.batch_seconds
        while True:
            await _wait(self.events.commit, 30.0)
            if not syncer.store.pending_commits():
                continue
            await asyncio.sleep(window)  # batch window: gather the other locales' results
            await self._flush_commits(syncer)

    async def _flush_commits(self, syncer: Syncer) -> None:
        with contextlib.suppress(GitError):
            await syncer.commit_pending()

    async def _guard(self, step: Awaitable[T], *, default: T) -> T:
        try:
            return await step
        except ProviderError as exc:
            log.warning("provider_unreachable", error=str(exc))
        except Exception:
            log.exception("step_failed")
        return default


@dataclass
class OnceResult:
    exit_code: int
    failed: list[str]
    errors: list[str]


async def sync_once(loaded: LoadedConfig, *, allow_deletions: bool, timeout: float) -> OnceResult:
    """``locsync sync --once``: scan, submit, wait for every result, write, commit."""
    async with wired(loaded) as wiring:
        syncer = wiring.syncer
        watched = {(job.document, job.version) for job in syncer.store.jobs(states=("open", "received"))}
        watched |= {(sub.document, sub.version) for sub in syncer.store.pending_submissions()}
        report = await syncer.scan(allow_deletions=allow_deletions)
        watched |= set(report.submitted_versions)
        errors = list(report.errors) + [str(b) for b in report.blocked]
        deadline = time.monotonic() + timeout
        delay = 0.05
        while syncer.open_work():
            wait = await syncer.submit_pending()
            await syncer.process_inbox()
            try:
                await syncer.catch_up()
            except ProviderError as exc:
                log.warning("provider_unreachable", error=str(exc))
            await syncer.apply_received()
            if not syncer.open_work():
                break
            if time.monotonic() > deadline:
                errors.append(f"timed out after {timeout:.0f}s with {syncer.open_work()} results outstanding")
                break
            await asyncio.sleep(min(wait or delay, 5.0))
            delay = min(delay * 1.5, 1.0)
        try:
            await syncer.commit_pending()
        except GitError as exc:
            errors.append(f"git: {exc}")
        failed = [
            f"{job.document} [{job.locale}]: {job.error}"
            for job in syncer.store.jobs(states=("failed",))
            if (job.document, job.version) in watched
        ]
        rejected = [
            f"{sub.document} v{sub.version}: {sub.last_error}"
            for sub in syncer.store.submissions()
            if sub.state == "rejected" and (sub.document, sub.version) in watched
        ]
        errors += rejected
        return OnceResult(1 if (errors or failed) else 0, failed, errors)


def pid_file(loaded: LoadedConfig) -> Path:
    return loaded.state_path.with_name("daemon.pid")
