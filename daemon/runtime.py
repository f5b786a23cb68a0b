"""The long-running daemon and the one-shot sync: wiring, loops, signals.

Start-up order follows docs/reliability.md: sweep leftover temp files, open the state
database, start the HTTP server (the inbox only inserts, so it may listen early), then
reconcile (re-drive the outbox, catch up with the provider, rescan every source) and only
then report READY. Each loop waits on an event with a timeout, so a webhook, a file save or
a timer all lead to the same idempotent step in ``Syncer``.

Signals (the daemon owns them; uvicorn's handlers are disabled):

- SIGTERM/SIGINT: ``STOPPING=1``, stop taking new work, let a commit in progress finish,
  flush the pending commit, exit 0. A file write never straddles the signal: writes run
  synchronously on the event loop, and the handler only runs between loop callbacks.
- SIGHUP: ``RELOADING=1``, re-read the config; an invalid file is rejected and the daemon
  keeps the old one (``config_reload_rejected``). Sources, git settings and sync timings
  apply live; server, provider, state and root changes are logged as needing a restart.
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
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from daemon.atomic import sweep_temp_files
from daemon.config import LoadedConfig, load_config
from daemon.errors import ConfigError, ConfigProblem, GitError, ProviderError
from daemon.gitcommit import GitRepo, GitSettings
from daemon.gitlocks import clear_stale_locks
from daemon.health import Readiness, TrackedProvider
from daemon.live import META_PID, META_URL
from daemon.memory import release_freed_memory
from daemon.progress import SyncProgress
from daemon.providers import provider_class
from daemon.providers.base import Provider
from daemon.providers.lingo import LingoProvider
from daemon.sdnotify import StatusLine, notify, watchdog_interval, watchdog_loop
from daemon.secrets import Secret, load_secret
from daemon.serving import HttpSide, StartsServing
from daemon.sources.files import prove_watching, watch_documents
from daemon.state.store import StateStore
from daemon.syncer import Syncer

if TYPE_CHECKING:
    # imported where used: sync --once with nothing to send needs none of them (see daemon.serving)
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp

    from daemon.engine.app import Engine
    from daemon.metrics import Metrics
    from daemon.webhooks.app import WebhookReceiver

log = structlog.get_logger("locsync.runtime")
T = TypeVar("T")
INBOX_RETENTION_SECONDS = 7 * 24 * 3600
DRAIN_SECONDS = 15.0
"""How long a stop waits for a commit in progress (TimeoutStopSec= in the unit is 30 s)."""
PROBE_EVERY_SECONDS = 60.0
STATUS_EVERY_SECONDS = 5.0
INBOX_COALESCE_SECONDS = 0.005
RESTART_ONLY = ("server", "provider", "state", "root")
"""Config sections a SIGHUP cannot apply: the listener, the provider client and the database are open."""


@dataclass
class Wiring:
    store: StateStore
    provider: Provider
    syncer: Syncer
    http: HttpSide
    base_url: str
    polling: bool
    metrics: Metrics | None = None
    readiness: Readiness | None = None
    callback_url: str | None = None
    git_root: Path | None = None
    _receivers: list[WebhookReceiver] = field(default_factory=list)

    @property
    def engine(self) -> Engine | None:
        """The embedded engine, once the HTTP side has started (None for another provider)."""
        return self.http.engine

    @property
    def receiver(self) -> WebhookReceiver:
        """The webhook inbox's front door; exists once the HTTP side has started."""
        if not self._receivers:
            raise RuntimeError("the HTTP side has not started (wired(lazy=True) starts it on the first provider call)")
        return self._receivers[0]


def _new_whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_or_problem(loaded: LoadedConfig, what: str, **kwargs: str | None) -> Secret | None:
    try:
        return load_secret(base=loaded.base, **kwargs)
    except ValueError as exc:
        raise ConfigError(str(loaded.path), [ConfigProblem(None, f"provider.{what}", str(exc))]) from None


def local_url(host: str, port: int) -> str:
    """A URL this host can connect to for a listener on ``host:port`` (wildcards become loopback)."""
    connect = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{connect}]:{port}" if ":" in connect else f"http://{connect}:{port}"


async def find_git(loaded: LoadedConfig) -> Path | None:
    root = await GitRepo.find(loaded.root)
    if root is None:
        log.warning("git_disabled", reason=f"{loaded.root} is not inside a git repository")
    return root


def make_git(loaded: LoadedConfig, git_root: Path | None) -> GitRepo | None:
    git = loaded.config.git
    if not git.enabled or git_root is None:
        return None
    return GitRepo(git_root, GitSettings(author_name=git.author_name, author_email=git.author_email,
                                         skip_ci=git.skip_ci))


@contextlib.asynccontextmanager
async def wired(
    loaded: LoadedConfig, *, events: Events | None = None, metrics: Metrics | None = None, lazy: bool = False
) -> AsyncIterator[Wiring]:
    """Open state, server, provider (and the embedded engine), and close them in reverse.

    ``lazy`` (``sync --once``): bind the port now but serve, and start the embedded engine,
    only on the first provider call; a run with nothing to send or fetch then never pays for
    uvicorn, Starlette, the engine or prometheus (no ``Metrics`` unless one is passed).
    """
    config = loaded.config
    events = events or Events()
    if metrics is None and not lazy:
        from daemon.metrics import Metrics  # prometheus: only for the daemon's /metrics

        metrics = Metrics()
    removed = sweep_temp_files(loaded.root)
    if removed:
        log.info("temp_files_swept", count=len(removed))
    store = StateStore(loaded.state_path)
    readiness = Readiness(store)
    if metrics is not None:
        metrics.watch_jobs(store.job_counts)
    provider_cfg = config.provider
    webhook_secrets: list[str] = []
    make_engine: Callable[[], Engine] | None = None
    # IPPROTO_TCP (not the default 0) makes asyncio set TCP_NODELAY on accepted connections;
    # without it each webhook answer can wait ~40 ms on Nagle and delayed ACKs
    family = socket.AF_INET6 if ":" in config.server.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.server.host, config.server.port))
    except OSError as exc:
        store.close()
        sock.close()
        raise ConfigError(
            str(loaded.path),
            [ConfigProblem(None, "server.port", f"cannot listen on {config.server.host}:{config.server.port}: "
                           f"{exc.strerror}; choose a free port")],
        ) from None
    host, port = sock.getsockname()[:2]
    base_url = local_url(host, port)
    if provider_cfg.kind == "embedded":
        webhook_secret = store.meta_or_create("embedded_webhook_secret", _new_whsec)
        api_key = store.meta_or_create("embedded_api_key", lambda: "lsk_" + secrets.token_urlsafe(24))
        openai_key = os.environ.get(provider_cfg.openai_api_key_env or "") or None

        def make_engine() -> Engine:
            from daemon.engine.app import Engine
            from daemon.engine.settings import EngineSettings, Knobs

            return Engine(
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

        webhook_secrets = [webhook_secret]
        provider: Provider = LingoProvider(f"{base_url}/engine", Secret(api_key), timeout=provider_cfg.timeout_seconds)
        callback_url: str | None = f"{base_url}/webhooks/lingo"
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
    receivers: list[WebhookReceiver] = []

    def make_app() -> ASGIApp:
        from starlette.routing import Mount

        from daemon.webhooks.app import WebhookReceiver, create_app
        from daemon.webhooks.cms_hints import CmsHints

        receiver = WebhookReceiver(
            store, lambda: webhook_secrets, on_stored=events.inbox.set, clock=time.time,
            max_body_bytes=config.server.max_body_bytes, metrics=metrics,
        )
        receivers.append(receiver)
        engine = http.engine
        extra_routes: list[BaseRoute] = [] if engine is None else [Mount("/engine", app=engine.app)]
        extra_routes.append(CmsHints.from_config(loaded, lambda _source: events.cms_poll.set()).route())
        return create_app(receiver, extra_routes=extra_routes, readyz=readiness.endpoint,
                          metrics=metrics.endpoint if metrics is not None else None)

    def listening() -> None:
        log.info("server_listening", url=base_url, mode="polling" if polling else "webhooks",
                 provider=provider_cfg.kind)

    http = HttpSide(sock, make_app, make_engine, on_started=listening)
    if lazy:
        provider = StartsServing(provider, http.start)
    provider = TrackedProvider(provider, readiness, metrics)
    git_root = None
    if config.git.enabled:
        git_root = await find_git(loaded)
        if git_root is not None:
            clear_stale_locks(git_root)
    syncer = Syncer(loaded, store, provider, callback_url=callback_url, git=make_git(loaded, git_root))
    current: Wiring | None = None
    try:
        if not lazy:
            await http.start()
        current = Wiring(store, provider, syncer, http, base_url, polling, metrics, readiness, callback_url, git_root, receivers)
        yield current
    finally:
        # the engine first (no more deliveries), then our client's keep-alive connections, so
        # that uvicorn finds none left to wait for (it polls for them every 0.1 s)
        await http.stop_engine()
        await provider.aclose()
        await http.stop()
        await (current.syncer if current is not None else syncer).aclose()
        store.close()
        sock.close()


class Events:
    """Wake-ups for the daemon's loops."""

    def __init__(self) -> None:
        self.inbox = asyncio.Event()
        self.submit = asyncio.Event()
        self.commit = asyncio.Event()
        self.stop = asyncio.Event()
        self.reload = asyncio.Event()
        self.status = asyncio.Event()
        self.cms_poll = asyncio.Event()


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait for ``event`` or ``timeout``, then clear it; True if the event was set.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives just as the
    event is set (likely under a burst of webhooks), and the loop calling it would never stop.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    was_set = event.is_set()
    event.clear()
    return was_set


class Daemon:
    """``locsync run``: watch, submit, receive, catch up, write, commit; until SIGTERM."""

    def __init__(self, loaded: LoadedConfig, *, allow_deletions: bool = False) -> None:
        self.loaded = loaded
        self.allow_deletions = allow_deletions
        self.events = Events()
        from daemon.metrics import Metrics

        self.metrics = Metrics()
        self.status_line = StatusLine()
        self._inflight: set[asyncio.Task[Any]] = set()
        # Writing files and committing them never interleave: a result applied while git
        # commits would be re-queued for commit and then cleared with the commit's own paths.
        self._files_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._watch_stop = asyncio.Event()
        self._live = asyncio.Event()
        self._last_probe = 0.0

    @property
    def syncer(self) -> Syncer:
        return self.wiring.syncer

    def request_stop(self) -> None:
        if self.events.stop.is_set():
            return
        notify("STOPPING=1")
        log.info("stop_requested")
        self.events.stop.set()

    def request_reload(self) -> None:
        log.info("reload_requested")
        self.events.reload.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        interval = watchdog_interval()
        watchdog = asyncio.create_task(watchdog_loop(interval), name="watchdog") if interval else None
        try:
            async with wired(self.loaded, events=self.events, metrics=self.metrics) as wiring:
                self.wiring = wiring
                await self._serve(wiring)
        finally:
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
            # Everything is flushed. Closing the loop would put the default (fatal) action back,
            # so a second stop request in the last milliseconds (systemd, a supervisor, an
            # impatient operator) would turn this clean exit 0 into "killed by SIGTERM".
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
                signal.signal(sig, signal.SIG_IGN)
        log.info("daemon_stopped")
        return 0

    async def _serve(self, wiring: Wiring) -> None:
        store = wiring.store
        store.set_meta(META_URL, wiring.base_url)
        store.set_meta(META_PID, str(os.getpid()))
        try:
            self._start_watcher()
            watching = await self._until_stop(
                prove_watching(self.syncer.sources, self._live, debounce_ms=self.loaded.config.sync.debounce_ms))
            if watching is False:
                log.warning("watcher_unconfirmed", hint="file changes may be noticed late; catch-up rescans them")
            if not self.events.stop.is_set():
                await self._until_stop(self._reconcile())
            if self.events.stop.is_set():  # stopped during start-up: never READY
                await self._shutdown([])
                return
            if wiring.readiness is not None:
                wiring.readiness.started = True
            self.metrics.ready.set(1)
            notify("READY=1")
            self._update_status()
            log.info("daemon_ready", documents=self.syncer.document_count())
            release_freed_memory()  # the start-up scan's peak is over; an idle daemon needs a fraction
            tasks = [
                asyncio.create_task(self._submit_loop(), name="submit"),
                asyncio.create_task(self._inbox_loop(), name="inbox"),
                asyncio.create_task(self._catchup_loop(), name="catchup"),
                asyncio.create_task(self._commit_loop(), name="commit"),
                asyncio.create_task(self._reload_loop(), name="reload"),
                asyncio.create_task(self._status_loop(), name="status"),
            ]
            if self.syncer.cms:
                tasks.append(asyncio.create_task(self._cms_loop(), name="cms"))
            await self.events.stop.wait()
            await self._shutdown(tasks)
        finally:
            with contextlib.suppress(Exception):
                store.set_meta(META_URL, "")
                store.set_meta(META_PID, "")

    async def _until_stop(self, work: Coroutine[Any, Any, T]) -> T | None:
        """Run ``work`` unless a stop is requested first (then cancel it; every step is idempotent)."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.events.stop.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop taking new work, let a commit in progress finish, flush the pending commit."""
        notify("STATUS=stopping: flushing the pending commit")
        if self._watcher is not None:
            tasks = [*tasks, self._watcher]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._inflight:
            _done, pending = await asyncio.wait(self._inflight, timeout=DRAIN_SECONDS)
            for task in pending:
                log.warning("stop_abandoned_step", step=task.get_name())
                task.cancel()
        await self._flush_commits()

    # --- the watcher --------------------------------------------------------------------

    def _start_watcher(self) -> None:
        """(Re)start the file watcher for the current sources; each watcher has its own stop event."""
        if self._watcher is not None:
            self._watch_stop.set()
            self._watcher.cancel()
        self._watch_stop = asyncio.Event()
        self._live = asyncio.Event()
        self._watcher = asyncio.create_task(self._watch_loop(self._watch_stop, self._live), name="watch")

    async def _watch_loop(self, stop: asyncio.Event, live: asyncio.Event) -> None:
        syncer = self.syncer
        debounce = self.loaded.config.sync.debounce_ms
        async for touched in watch_documents(syncer.sources, debounce_ms=debounce, stop=stop, live=live):
            log.info("sources_changed", documents=sorted(doc for _, doc in touched))
            async with self._files_lock:
                await self._guard(self.syncer.scan(touched, allow_deletions=self.allow_deletions, keep_plans=False),
                                  default=None)
            self._wake_after_scan()

    def _wake_after_scan(self) -> None:
        self.events.submit.set()
        self.events.commit.set()
        self.events.status.set()

    # --- the steps ----------------------------------------------------------------------

    async def _reconcile(self) -> None:
        syncer = self.syncer
        await syncer.submit_pending()
        with contextlib.suppress(ProviderError):
            await self._catch_up(walk_list=True)
        await syncer.process_inbox()
        await self._apply()
        await syncer.scan(allow_deletions=self.allow_deletions, keep_plans=False)
        self._wake_after_scan()

    async def _catch_up(self, *, walk_list: bool = False) -> int:
        store = self.syncer.store
        open_before = {job.job_id for job in store.jobs(states=("open",))}
        try:
            arrived = await self.syncer.catch_up(walk_list=walk_list)
        except ProviderError:
            self.metrics.catchup_runs.labels(result="error").inc()
            raise
        self.metrics.catchup_runs.labels(result="ok").inc()
        if arrived:
            for job in store.jobs(states=("received",)):
                if job.job_id in open_before:
                    self.metrics.result_arrived(job.job_id, "catchup")
        return arrived

    async def _apply(self) -> int:
        """Apply received results; stop the write-back clock of each one now on disk."""
        store = self.syncer.store
        before = {job.job_id for job in store.jobs(states=("received",))}
        if not before:
            return 0
        async with self._files_lock:
            applied = await self.syncer.apply_received()
        after = {job.job_id for job in store.jobs(states=("received",))}
        self.metrics.results_written(before - after)
        self.events.status.set()
        return applied

    async def _flush_commits(self) -> None:
        async with self._files_lock:
            try:
                sha = await self.syncer.commit_pending()
            except GitError:
                self.metrics.git_failures.inc()
                return
            if sha:
                self.metrics.git_commits.inc()

    # --- the loops ----------------------------------------------------------------------

    async def _submit_loop(self) -> None:
        wait: float | None = None
        # not `while True`: on Python 3.11, wait_for() swallows a cancel that arrives as its event
        # is set (a webhook every millisecond makes that likely), and the stop's gather never ends
        while not self.events.stop.is_set():
            await _wait(self.events.submit, wait)
            wait = await self._guard(self.syncer.submit_pending(), default=None)
            self.events.inbox.set()
            self.events.status.set()

    async def _inbox_loop(self) -> None:
        while not self.events.stop.is_set():  # see _submit_loop
            await _wait(self.events.inbox, 5.0)
            # deliveries come in bursts (one per locale, retries, a backlog after an outage): a
            # moment's wait lets one pass take them together instead of one pass each
            await asyncio.sleep(INBOX_COALESCE_SECONDS)
            # no fsync per delivery marked handled: a lost mark only means the stored delivery is
            # handled again, and _apply's first commit (synchronous=FULL) makes the marks durable
            with self.syncer.store.deferred_fsync():
                await self._guard(self.syncer.process_inbox(), default=0)
            if await self._guard(self._apply(), default=0):
                self.events.commit.set()

    async def _catchup_loop(self) -> None:
        while True:
            sync = self.loaded.config.sync
            await asyncio.sleep(sync.polling_mode_seconds if self.wiring.polling else sync.poll_seconds)
            if await self._guard(self._catch_up(), default=0):
                self.events.inbox.set()
            # keep delivery ids well past any sender's retry horizon (Svix ~27 h, Stripe 3 days)
            self.syncer.store.inbox_prune(time.time() - INBOX_RETENTION_SECONDS)

    async def _commit_loop(self) -> None:
        while not self.events.stop.is_set():  # see _submit_loop
            await _wait(self.events.commit, 30.0)
            if not self.syncer.store.pending_commits():
                continue
            await asyncio.sleep(self.loaded.config.git.batch_seconds)  # batch window: gather the other locales
            await self._shielded(self._flush_commits(), name="commit")

    async def _cms_loop(self) -> None:
        """Poll the CMS sources' feeds every ``pollSeconds``, or at once on a webhook hint."""
        while True:
            sources = self.syncer.cms
            wait = min((source.cms.poll_seconds for source in sources.values()), default=30.0)
            await _wait(self.events.cms_poll, wait)
            for index in list(sources):
                async with self._files_lock:
                    report = await self._guard(
                        self.syncer.poll_cms(index, allow_deletions=self.allow_deletions), default=None
                    )
                if report is not None and report.submitted_versions:
                    self._wake_after_scan()

    async def _reload_loop(self) -> None:
        while True:
            await self.events.reload.wait()
            self.events.reload.clear()
            await self._shielded(self._reload(), name="reload")

    async def _status_loop(self) -> None:
        """Keep ``STATUS=`` current and probe the provider when nothing else has reached it lately."""
        while True:
            await _wait(self.events.status, STATUS_EVERY_SECONDS)
            self._update_status()
            readiness = self.wiring.readiness
            now = time.monotonic()
            if readiness is not None and readiness.probe_due() and now - self._last_probe > PROBE_EVERY_SECONDS:
                self._last_probe = now
                await self._guard(self.wiring.provider.check(), default=None)

    def _update_status(self) -> None:
        try:
            store = self.syncer.store
            text = f"watching {self.syncer.document_count()} documents, {store.groups_in_flight()} groups in flight"
            queued = store.pending_submission_count()
        except Exception:  # the status line must never take the daemon down
            return
        if queued:
            text += f", {queued} submissions queued"
        if self.syncer.health.last_error:
            text += f"; provider: {self.syncer.health.last_error}"[:200]
        self.status_line.update(text)

    # --- reload ---------------------------------------------------------------------------

    async def _reload(self) -> None:
        notify("RELOADING=1")
        try:
            await self._apply_config()
        finally:
            notify("READY=1")
            self._update_status()

    async def _apply_config(self) -> None:
        path = self.loaded.path
        try:
            fresh = load_config(path)
        except ConfigError as exc:
            self.metrics.config_reloads.labels(result="rejected").inc()
            log.error("config_reload_rejected", error=str(exc), hint="still running on the previous config")
            return
        old = self.loaded.config
        restart = [name for name in RESTART_ONLY if getattr(fresh.config, name) != getattr(old, name)]
        changed = [name for name in ("sources", "git", "sync") if getattr(fresh.config, name) != getattr(old, name)]
        effective = LoadedConfig(fresh.config.model_copy(update={name: getattr(old, name) for name in RESTART_ONLY}),
                                 path)
        wiring = self.wiring
        try:
            git_root = wiring.git_root
            if effective.config.git.enabled and git_root is None:
                git_root = wiring.git_root = await find_git(effective)
            syncer = Syncer(effective, wiring.store, wiring.provider, callback_url=wiring.callback_url,
                            git=make_git(effective, git_root))
        except Exception as exc:
            self.metrics.config_reloads.labels(result="rejected").inc()
            log.error("config_reload_rejected", error=f"{path}: {exc}", hint="still running on the previous config")
            return
        syncer.health = self.syncer.health
        self.loaded = effective
        previous, wiring.syncer = wiring.syncer, syncer
        await previous.aclose()  # its CMS clients; the new syncer has its own
        self.metrics.config_reloads.labels(result="applied").inc()
        if restart:
            log.warning("config_reload_needs_restart", sections=restart,
                        hint="these sections keep their old values until locsync restarts (systemctl restart)")
        log.info("config_reloaded", changed=changed)
        if "sources" in changed or "sync" in changed:
            self._start_watcher()
            if not await prove_watching(syncer.sources, self._live, debounce_ms=effective.config.sync.debounce_ms):
                log.warning("watcher_unconfirmed", hint="file changes may be noticed late; catch-up rescans them")
        async with self._files_lock:
            await self._guard(syncer.scan(allow_deletions=self.allow_deletions, keep_plans=False), default=None)
        self._wake_after_scan()

    # --- helpers --------------------------------------------------------------------------

    async def _shielded(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run ``work`` to completion even if the calling loop is cancelled by a stop."""
        task = asyncio.create_task(self._guard(work, default=None), name=name)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        await asyncio.shield(task)

    async def _guard(self, step: Awaitable[T], *, default: T) -> T:
        try:
            return await step
        except ProviderError as exc:
            log.warning("provider_unreachable", error=str(exc))
        except Exception:
            log.exception("step_failed")
        return default


CATCH_UP_SILENCE_SECONDS = 1.0
"""``sync --once`` with webhooks: how long without a delivery before it reads results back."""
CATCH_UP_SILENCE_MAX_SECONDS = 10.0


@dataclass
class OnceResult:
    exit_code: int
    failed: list[str]
    errors: list[str]


async def sync_once(
    loaded: LoadedConfig,
    *,
    allow_deletions: bool,
    timeout: float,
    progress: Callable[[SyncProgress], None] | None = None,
) -> OnceResult:
    """``locsync sync --once``: scan, submit, wait for every result, write, commit."""
    started_at = time.time()
    events = Events()
    async with wired(loaded, lazy=True, events=events) as wiring:
        syncer = wiring.syncer
        watched = {(job.document, job.version) for job in syncer.store.jobs(states=("open", "received"))}
        watched |= {(sub.document, sub.version) for sub in syncer.store.pending_submissions()}
        stats_before, listing = None, None
        if not allow_deletions and not syncer.cms:
            from daemon.fastpath import stats_and_listing

            stats_before, listing = stats_and_listing(loaded, syncer)
        report = await syncer.scan(allow_deletions=allow_deletions, listing=listing)
        watched |= set(report.submitted_versions)
        keys_planned = sum(len(lp.send) for plan in report.plans for lp in plan.locales)

        def tell() -> None:
            if progress is None:
                return
            all_subs, all_jobs = syncer.store.states()
            subs = [state for doc, version, state in all_subs if (doc, version) in watched]
            jobs = [state for doc, version, state in all_jobs if (doc, version) in watched]
            progress(SyncProgress(
                documents=len(report.plans), keys_planned=keys_planned, groups_queued=len(subs),
                groups_submitted=sum(state == "submitted" for state in subs), jobs_total=len(jobs),
                jobs_done=sum(state in ("applied", "failed") for state in jobs),
            ))

        tell()
        errors = list(report.errors) + [str(b) for b in report.blocked]
        deadline = time.monotonic() + timeout
        delay = 0.05
        # With webhooks, read results back from the provider only after a silence (a lost or
        # late delivery), the silence doubling each time: while deliveries flow, a catch-up on
        # every wake-up would be a GET per open group (~120 requests in a 200-document cold sync).
        last_heard, silence = time.monotonic(), CATCH_UP_SILENCE_SECONDS
        while syncer.open_work():
            wait = await syncer.submit_pending()
            if await syncer.process_inbox():  # deliveries that came while we submitted count too
                last_heard = time.monotonic()
            if wiring.polling or time.monotonic() - last_heard >= silence:
                if not wiring.polling:
                    last_heard, silence = time.monotonic(), min(silence * 2, CATCH_UP_SILENCE_MAX_SECONDS)
                try:
                    await syncer.catch_up()
                except ProviderError as exc:
                    log.warning("provider_unreachable", error=str(exc))
            await syncer.apply_received()
            tell()
            if not syncer.open_work():
                break
            if time.monotonic() > deadline:
                errors.append(f"timed out after {timeout:.0f}s with {syncer.open_work()} results outstanding")
                break
            # a webhook wakes us at once; without one (polling, or a lost delivery) we look again
            if await _wait(events.inbox, min(wait or delay, 5.0)):
                last_heard = time.monotonic()
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
        if not (errors or failed) and stats_before is not None:
            from daemon.fastpath import save_snapshot

            # the next run may answer without us
            save_snapshot(loaded, syncer, started_at=started_at, before=stats_before, listing=listing)
        return OnceResult(1 if (errors or failed) else 0, failed, errors)
