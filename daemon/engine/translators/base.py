"""What the worker needs from a translator, and the checks every translator shares.

A translator turns one job's ``data`` into ``outputData`` for one target locale. It raises
``TranslationError`` for anything that should fail the job; the message becomes the job's
``errorMessage`` and the webhook's ``error``, so it must be readable by a user and must never
contain a credential.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from daemon.engine.translators.data import JSONValue, iter_strings, path_label
from daemon.engine.translators.pseudo import placeholders


class TranslationError(Exception):
    """The job fails with ``str(error)`` as its errorMessage."""


@dataclass(frozen=True)
class JobWarning:
    """A problem that did not fail the job; it becomes ``completed_with_warnings``."""

    code: str
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "message": self.message}


@dataclass(frozen=True)
class TranslationResult:
    output: JSONValue
    warnings: list[JobWarning] = field(default_factory=list)


class JobTranslator(Protocol):
    """One translation backend; ``aclose`` releases connections when the engine stops."""

    async def translate(
        self, data: JSONValue, *, source_locale: str, target_locale: str, locked_keys: Sequence[str]
    ) -> TranslationResult: ...

    async def aclose(self) -> None: ...


def placeholder_warnings(source: JSONValue, output: JSONValue, locked_keys: Sequence[str]) -> list[JobWarning]:
    """One warning per string whose translation lost, gained or altered a placeholder or tag."""
    translated = dict(iter_strings(output, locked_keys))
    warnings = []
    for path, text in iter_strings(source, locked_keys):
        result = translated.get(path)
        if result is None:
            continue
        expected, got = Counter(placeholders(text)), Counter(placeholders(result))
        if expected != got:
            missing = sorted((expected - got).elements())
            extra = sorted((got - expected).elements())
            detail = []
            if missing:
                detail.append("missing " + ", ".join(missing))
            if extra:
                detail.append("unexpected " + ", ".join(extra))
            warnings.append(JobWarning("placeholder_mismatch", path_label(path), "; ".join(detail)))
    return warnings
