"""Liveness and readiness: ``/healthz`` says the process is up, ``/readyz`` that it can work.

Ready means: start-up reconciliation is done, the state database answers, and the provider
answered a call successfully within ``max_age`` seconds. Every provider call goes through
``TrackedProvider``, which records the last success and the last error; an idle daemon
makes no calls, so the daemon probes the provider (``Provider.check``) when the last success
grows old (``Readiness.probe_due``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from daemon.errors import ProviderError
from daemon.providers.base import GroupRef, JobRef, JobResult, Provider, SubmitRequest, WebhookEvent

if TYPE_CHECKING:  # sync --once tracks provider calls without serving /readyz or /metrics
    from starlette.requests import Request
    from starlette.responses import Response

    from daemon.config import ProviderConfig
    from daemon.metrics import Metrics
    from daemon.secrets import Secret
    from daemon.state.store import StateStore

T = TypeVar("T")
READY_MAX_AGE_SECONDS = 300.0


class Readiness:
    """What ``/readyz`` reports; updated by the daemon and by ``TrackedProvider``."""

    def __init__(self, store: StateStore, *, max_age: float = READY_MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.max_age = max_age
        self.clock = clock
        self.started = False
        self.last_success: float | None = None
        self.last_error: str | None = None

    def provider_ok(self) -> None:
        self.last_success = self.clock()
        self.last_error = None

    def provider_failed(self, error: ProviderError) -> None:
        self.last_error = str(error)

    def probe_due(self) -> bool:
        """True when no provider call succeeded for a fifth of ``max_age``."""
        return self.last_success is None or self.clock() - self.last_success > self.max_age / 5

    def problems(self) -> list[str]:
        reasons = []
        if not self.started:
            reasons.append("starting: reconciling with the provider and the files")
        try:
            self.store.conn.execute("SELECT 1").fetchone()
        except Exception as exc:
            reasons.append(f"state database unusable: {type(exc).__name__}: {exc}")
        if self.last_success is None:
            reasons.append("provider not reached yet" + (f": {self.last_error}" if self.last_error else ""))
        elif self.clock() - self.last_success > self.max_age:
            ago = self.clock() - self.last_success
            reasons.append(f"provider not reached successfully for {ago:.0f}s (limit {self.max_age:.0f}s)"
                           + (f": {self.last_error}" if self.last_error else ""))
        return reasons

    async def endpoint(self, _request: Request) -> Response:
        from starlette.responses import JSONResponse

        reasons = self.problems()
        body: dict[str, Any] = {"status": "ready" if not reasons else "not ready"}
        if reasons:
            body["reasons"] = reasons
        if self.last_success is not None:
            body["provider_last_success_seconds_ago"] = round(self.clock() - self.last_success, 1)
        return JSONResponse(body, status_code=200 if not reasons else 503)


class TrackedProvider(Provider):
    """Delegates to a provider, recording each call's outcome for readiness and metrics."""

    name: ClassVar[str] = "tracked"

    def __init__(self, inner: Provider, readiness: Readiness | None, metrics: Metrics | None) -> None:
        self.inner = inner
        self.readiness = readiness
        self.metrics = metrics

    @classmethod
    def from_config(cls, config: ProviderConfig, api_key: Secret) -> Provider:  # pragma: no cover - not registered
        raise NotImplementedError("wrap a configured provider instead")

    def _ok(self, operation: str) -> None:
        if self.readiness is not None:
            self.readiness.provider_ok()
        if self.metrics is not None:
            self.metrics.provider_requests.labels(operation=operation, outcome="ok").inc()
            self.metrics.provider_last_success.set(time.time())

    def _failed(self, operation: str, error: ProviderError) -> None:
        if self.readiness is not None:
            self.readiness.provider_failed(error)
        if self.metrics is not None:
            self.metrics.provider_requests.labels(operation=operation, outcome="error").inc()

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await call()
        except ProviderError as exc:
            self._failed(operation, exc)
            raise
        self._ok(operation)
        return result

    async def submit(self, request: SubmitRequest) -> GroupRef:
        group = await self._call("submit", lambda: self.inner.submit(request))
        if self.metrics is not None:
            self.metrics.groups_submitted.inc()
        return group

    async def get_group(self, group_id: str) -> GroupRef:
        return await self._call("get_group", lambda: self.inner.get_group(group_id))

    async def get_job(self, job_id: str) -> JobResult:
        return await self._call("get_job", lambda: self.inner.get_job(job_id))

    async def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        pages = self.inner.list_jobs(status=status, limit=limit)
        counted = False
        try:
            while True:
                try:
                    ref = await pages.__anext__()
                except StopAsyncIteration:
                    if not counted:
                        self._ok("list_jobs")
                    return
                except ProviderError as exc:
                    self._failed("list_jobs", exc)
                    raise
                if not counted:  # the first page answered; callers often stop early
                    self._ok("list_jobs")
                    counted = True
                yield ref
        finally:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        return self.inner.parse_webhook(body)

    async def check(self) -> None:
        await self._call("check", self.inner.check)

    async def aclose(self) -> None:
        await self.inner.aclose()
