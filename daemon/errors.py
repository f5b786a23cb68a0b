"""The exception tree of locsync.

Exceptions abort a unit of work; expected outcomes (a stale result skipped, a manual
edit kept) are return values plus log events instead. Only ``cli.py`` renders these
for humans, so every exception carries structured fields rather than a pre-baked string::

    LocsyncError
    ├── ConfigError(path, problems)          user error: rendered without a traceback
    ├── FormatError(path, line, column, detail)   a source/target file could not be parsed
    ├── ProviderError(provider, status, detail)
    │   ├── ProviderUnavailable(retry_after)  5xx / transport / timeout: retried with the same key
    │   ├── ProviderQuota(retry_after)        402 credit limit, 429 daily quota: long back-off
    │   └── ProviderRejected                  other 4xx: permanent for this submission
    ├── WebhookRejected(reason, status_code)  a delivery we refuse; reason is a fixed code
    ├── DeletionGuardError(document, locale, deleted, total)
    ├── StateError                            the state database is unusable
    └── GitError(command, stderr_tail)        logged; the daemon keeps running
"""

from __future__ import annotations

from dataclasses import dataclass


class LocsyncError(Exception):
    """Base of every error locsync raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file: where it is and what was expected."""

    line: int | None
    key: str
    message: str

    def render(self, path: str) -> str:
        where = f"{path}:{self.line}" if self.line is not None else path
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(LocsyncError):
    """The config file is missing, unreadable or invalid; lists every problem found."""

    def __init__(self, path: str, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(p.render(path) for p in problems))


class FormatError(LocsyncError):
    """A translation file could not be parsed; nothing derived from it is written."""

    def __init__(self, path: str, line: int | None, column: int | None, detail: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.detail = detail
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {detail}")


class ProviderError(LocsyncError):
    """The localization provider answered with an error or could not be reached."""

    def __init__(self, provider: str, status: int | None, detail: str) -> None:
        self.provider = provider
        self.status = status
        self.detail = detail
        code = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{provider}: {code}: {detail}")


class ProviderUnavailable(ProviderError):
    """Transient: 5xx, a transport error or a timeout. Retry with the same idempotency key."""

    def __init__(
        self, provider: str, status: int | None, detail: str, retry_after: float | None = None
    ) -> None:
        super().__init__(provider, status, detail)
        self.retry_after = retry_after


class ProviderQuota(ProviderError):
    """402 (credit limit) or 429 (daily quota): not worth a quick retry; back off long."""

    def __init__(
        self, provider: str, status: int | None, detail: str, retry_after: float | None = None
    ) -> None:
        super().__init__(provider, status, detail)
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    """A 4xx other than quota: this request will never succeed as it is."""


class WebhookRejected(LocsyncError):
    """A webhook delivery we refuse. ``reason`` is a short fixed code (for logs and metrics)."""

    def __init__(self, reason: str, status_code: int, detail: str = "") -> None:
        self.reason = reason
        self.status_code = status_code
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class DeletionGuardError(LocsyncError):
    """A plan would delete too large a share of a target's keys."""

    def __init__(self, document: str, locale: str, deleted: int, total: int) -> None:
        self.document = document
        self.locale = locale
        self.deleted = deleted
        self.total = total
        super().__init__(
            f"{document} [{locale}]: the plan would delete {deleted} of {total} keys; "
            "check the source file, then rerun with --allow-deletions if this is intended"
        )


class StateError(LocsyncError):
    """The state database is unusable (integrity check failed, schema too new)."""


class GitError(LocsyncError):
    """A git command failed; the daemon logs it and keeps running."""

    def __init__(self, command: str, stderr_tail: str) -> None:
        self.command = command
        self.stderr_tail = stderr_tail
        super().__init__(f"{command}: {stderr_tail}")


class CmsError(LocsyncError):
    """The CMS answered with an error or could not be reached; the step is retried later."""

    def __init__(self, source: str, what: str, status: int | None, detail: str) -> None:
        self.source = source
        self.status = status
        code = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"CMS source '{source}': {what}: {code}: {detail}")


class EntryMissing(FormatError):
    """A CMS source entry does not exist (any more) in the readable state (e.g. not published)."""
