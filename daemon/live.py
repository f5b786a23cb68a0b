"""Talking to the provider from the CLI: where it is, its job list, one job, a group's WebSocket.

``locsync status --follow``, ``locsync jobs list`` and ``locsync jobs show`` need the
provider's URL and API key:

- ``kind: lingo``: ``provider.baseUrl`` and the API key from the same sources as the daemon
  (systemd credential, environment variable, file).
- ``kind: embedded``: the engine runs inside ``locsync run``. The daemon records its URL
  (``daemon_url``) and pid (``daemon_pid``) in the state database's meta table while it
  runs; the engine's API key is already there (``embedded_api_key``). Without a running
  daemon there is no engine to ask, and the command says so (exit 3).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from daemon.config import LoadedConfig
from daemon.errors import ConfigError, ConfigProblem, ProviderRejected, ProviderUnavailable
from daemon.providers.lingo import LingoProvider
from daemon.secrets import Secret, load_secret
from daemon.state.store import StateStore

META_URL = "daemon_url"
META_PID = "daemon_pid"
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


@dataclass(frozen=True)
class Endpoint:
    """The provider's API base URL and key (``http://…/engine`` for the embedded engine)."""

    base_url: str
    api_key: Secret

    def ws_url(self, path: str) -> str:
        scheme, rest = self.base_url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{path}"


def running_daemon(store: StateStore) -> tuple[int, str] | None:
    """The pid and URL of the ``locsync run`` using this state database, if one is alive."""
    pid_text, url = store.get_meta(META_PID), store.get_meta(META_URL)
    if not pid_text or not url:
        return None
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except PermissionError:  # alive, owned by another user (the service's)
        return int(pid_text), url
    except (ValueError, ProcessLookupError):
        return None
    return pid, url


def provider_endpoint(loaded: LoadedConfig) -> Endpoint:
    provider = loaded.config.provider
    if provider.kind == "embedded":
        store = StateStore(loaded.state_path)
        try:
            daemon = running_daemon(store)
            key = store.get_meta("embedded_api_key")
        finally:
            store.close()
        if daemon is None or not key:
            raise ProviderUnavailable(
                "embedded", None,
                "the embedded engine runs inside `locsync run`, which is not running for this config; start it first")
        return Endpoint(daemon[1] + "/engine", Secret(key))
    try:
        key_secret = load_secret(env=provider.api_key_env, file=provider.api_key_file,
                                 credential=provider.api_key_credential, base=loaded.base)
    except ValueError as exc:
        raise ConfigError(str(loaded.path), [ConfigProblem(None, "provider.apiKeyFile", str(exc))]) from None
    if key_secret is None:
        raise ConfigError(str(loaded.path), [ConfigProblem(
            None, "provider.apiKeyEnv", f"no API key: set ${provider.api_key_env} or provider.apiKeyFile")])
    return Endpoint(provider.base_url, key_secret)


# --- jobs list / jobs show --------------------------------------------------------------------


class JobsClient(LingoProvider):
    """The provider's read endpoints, returning the provider's own JSON (for display)."""

    @classmethod
    def for_endpoint(cls, endpoint: Endpoint, *, timeout: float = 30.0) -> JobsClient:
        return cls(endpoint.base_url, endpoint.api_key, timeout=timeout)

    async def walk(
        self, *, status: str | None = None, engine_id: str | None = None, since: datetime | None = None,
        limit: int | None = None, page_size: int = 100,
    ) -> AsyncIterator[dict[str, Any]]:
        """Jobs newest first, following ``nextCursor``; stops at the first older than ``since``."""
        cursor: str | None = None
        yielded = 0
        while True:
            params: dict[str, Any] = {"limit": page_size}
            if status:
                params["status"] = status
            if engine_id:
                params["engineId"] = engine_id
            if cursor:
                params["cursor"] = cursor
            page = await self._request("GET", "/jobs/localization", params=params)
            for item in page.get("items") or []:
                if since is not None:
                    created = parse_time(str(item.get("createdAt") or ""))
                    if created is not None and created < since:
                        return  # the list is newest first: everything after is older
                yield item
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            cursor = page.get("nextCursor")
            if not cursor:
                return

    async def job(self, job_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self._request("GET", f"/jobs/localization/{job_id}")
        return body


def parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``--since``: an ISO-8601 time (``2026-11-24``, ``2026-11-24T10:00:00Z``) or an age (``90s``, ``15m``, ``2h``, ``7d``)."""
    now = now or datetime.now(UTC)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value and value[-1] in units and value[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(seconds=float(value[:-1]) * units[value[-1]])
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"'{value}' is neither an ISO-8601 time nor an age such as 30m, 2h or 7d")
    return parsed


def flatten_keys(data: Any, prefix: str = "") -> list[str]:
    """Leaf key paths of nested output data, ``/``-separated like locsync's key patterns."""
    if isinstance(data, dict):
        keys: list[str] = []
        for key, value in data.items():
            keys.extend(flatten_keys(value, f"{prefix}{key}/"))
        return keys
    return [prefix.rstrip("/")] if prefix else []


# --- status --follow ----------------------------------------------------------------------


@dataclass
class GroupProgress:
    """What the WebSocket has told us about one group."""

    group_id: str
    document: str
    version: int
    total: int = 0
    ready: int = 0
    failed: int = 0
    status: str | None = None
    """The final group status once ``group.completed`` arrived."""
    locales: dict[str, str] = field(default_factory=dict)

    def update(self, message: dict[str, Any]) -> bool:
        """Apply a message; True when something shown changed."""
        before = (self.total, self.ready, self.failed, self.status, dict(self.locales))
        snapshot = message.get("snapshot")
        if isinstance(snapshot, dict):
            self.total = int(snapshot.get("totalJobs") or 0)
            self.ready = int(snapshot.get("completedJobs") or 0)
            self.failed = int(snapshot.get("failedJobs") or 0)
            jobs = snapshot.get("jobs")
            if isinstance(jobs, dict):
                self.locales = {str(job.get("locale")): str(job.get("status")) for job in jobs.values()
                                if isinstance(job, dict)}
        if message.get("type") == "group.completed":
            self.status = str(message.get("status") or "completed")
        return before != (self.total, self.ready, self.failed, self.status, self.locales)

    def line(self) -> str:
        text = f"{self.document} v{self.version}: {self.ready} of {self.total} languages ready"
        if self.failed:
            failed = sorted(loc for loc, status in self.locales.items() if status == "failed")
            text += f", {self.failed} failed" + (f" ({', '.join(failed)})" if failed else "")
        if self.status:
            text += f"; group {self.status}"
        return text

    def as_json(self, kind: str) -> dict[str, Any]:
        return {"type": kind, "group_id": self.group_id, "document": self.document, "version": self.version,
                "total": self.total, "ready": self.ready, "failed": self.failed, "status": self.status,
                "locales": self.locales}


Emit = Callable[[GroupProgress, str], None]


async def follow_group(
    endpoint: Endpoint, group: GroupProgress, emit: Emit, *,
    delays: tuple[float, ...] = RECONNECT_DELAYS, rng: random.Random | None = None,
) -> str:
    """Follow one group's WebSocket until ``group.completed``, reconnecting with back-off."""
    import websockets  # only `status --follow` needs it; the daemon imports this module for META_*
    from websockets.exceptions import InvalidStatus, WebSocketException

    rng = rng or random.Random()
    url = endpoint.ws_url(f"/jobs/localization/groups/{group.group_id}/ws")
    headers = {"X-API-Key": endpoint.api_key.reveal()}
    failures = 0
    while True:
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=10,
                                          user_agent_header="locsync", max_size=2**22) as socket:
                failures = 0
                async for raw in socket:
                    try:
                        message = json.loads(raw)
                    except ValueError:
                        continue
                    if not isinstance(message, dict):
                        continue
                    kind = str(message.get("type"))
                    if group.update(message) or kind == "group.completed":
                        emit(group, kind)
                    if kind == "group.completed":
                        return group.status or "completed"
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):
                raise ProviderRejected("websocket", code, "the API key was refused") from None
            if code == 404:
                raise ProviderRejected("websocket", code, f"job group {group.group_id} not found") from None
        except (OSError, TimeoutError, WebSocketException):
            pass
        delay = delays[min(failures, len(delays) - 1)] * (0.5 + rng.random() / 2)
        failures += 1
        emit(group, f"reconnecting in {delay:.1f}s")
        await asyncio.sleep(delay)


def groups_in_flight(store: StateStore) -> list[GroupProgress]:
    groups: dict[str, GroupProgress] = {}
    for job in store.jobs(states=("open", "received")):
        groups.setdefault(job.group_id, GroupProgress(job.group_id, job.document, job.version))
    return list(groups.values())


async def follow_in_flight(loaded: LoadedConfig, emit: Emit, *, say: Callable[[str], None],
                           timeout: float | None = None) -> list[GroupProgress]:
    """Follow every group in flight (and groups submitted meanwhile) until all completed."""
    endpoint: Endpoint | None = None  # resolved only once there is something to follow
    store = StateStore(loaded.state_path)
    tasks: dict[str, asyncio.Task[str]] = {}
    followed: dict[str, GroupProgress] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout else None
    told_waiting = False
    try:
        while True:
            for group in groups_in_flight(store):
                if group.group_id not in tasks:
                    endpoint = endpoint or provider_endpoint(loaded)
                    followed[group.group_id] = group
                    tasks[group.group_id] = asyncio.create_task(follow_group(endpoint, group, emit))
            for task in tasks.values():
                if task.done():
                    task.result()  # raise a refused key or an unknown group now
            running = [task for task in tasks.values() if not task.done()]
            queued = store.pending_submissions()
            if not running and not queued:
                return list(followed.values())
            if queued and not running:
                if running_daemon(store) is None:
                    say(f"{len(queued)} submissions are queued but locsync run is not running to submit them")
                    return list(followed.values())
                if not told_waiting:
                    say(f"waiting for the daemon to submit {len(queued)} queued submissions")
                    told_waiting = True
            if deadline is not None and loop.time() > deadline:
                raise ProviderUnavailable("websocket", None, f"groups still in flight after {timeout:.0f}s")
            if running:
                await asyncio.wait(running, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(0.5)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        store.close()
