"""The provider interface: what locsync needs from a localization platform.

Statuses are kept as the provider's own strings; code matches the ones it knows
(``TERMINAL_OK``, ``TERMINAL_FAILED``) and treats anything else as still running,
as the Lingo.dev docs advise for enums we don't own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from daemon.config import ProviderConfig
    from daemon.secrets import Secret

TERMINAL_OK = frozenset({"completed", "completed_with_warnings"})
TERMINAL_FAILED = frozenset({"failed"})


def is_terminal(status: str) -> bool:
    return status in TERMINAL_OK or status in TERMINAL_FAILED


@dataclass(frozen=True)
class SubmitRequest:
    source_locale: str
    target_locales: tuple[str, ...]
    data: dict[str, Any]
    idempotency_key: str
    callback_url: str | None = None
    engine_id: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sourceLocale": self.source_locale,
            "targetLocales": list(self.target_locales),
            "data": self.data,
            "idempotencyKey": self.idempotency_key,
        }
        if self.callback_url:
            body["callbackUrl"] = self.callback_url
        if self.engine_id:
            body["engineId"] = self.engine_id
        return body


@dataclass(frozen=True)
class JobRef:
    job_id: str
    locale: str
    status: str


@dataclass(frozen=True)
class GroupRef:
    group_id: str
    status: str
    jobs: tuple[JobRef, ...]


@dataclass(frozen=True)
class JobResult:
    job_id: str
    group_id: str
    locale: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    warnings: tuple[Any, ...] = field(default=())


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery, reduced to what write-back needs."""

    type: str
    job_id: str
    group_id: str
    locale: str
    data: dict[str, Any] | None
    error: str | None


class Provider(ABC):
    """A localization platform. Every call may raise ``daemon.errors.ProviderError`` subclasses."""

    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_config(cls, config: ProviderConfig, api_key: Secret) -> Provider:
        """Build the provider from its config section (the registry calls this)."""

    @abstractmethod
    async def submit(self, request: SubmitRequest) -> GroupRef:
        """Create a job group. Idempotent on ``request.idempotency_key``: a repeat returns the same group."""

    @abstractmethod
    async def get_group(self, group_id: str) -> GroupRef: ...

    @abstractmethod
    async def get_job(self, job_id: str) -> JobResult: ...

    @abstractmethod
    def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        """Walk every job, newest first, following the provider's cursor."""

    @abstractmethod
    def parse_webhook(self, body: bytes) -> WebhookEvent:
        """Parse a delivery whose signature was already verified; raise ``ValueError`` if malformed."""

    @abstractmethod
    async def check(self) -> None:
        """Make one cheap authenticated call; raise ``ProviderError`` if the provider is unusable."""

    @abstractmethod
    async def aclose(self) -> None: ...
