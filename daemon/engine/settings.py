"""Configuration of the reference engine.

``EngineSettings`` is fixed for the life of an ``Engine`` (what a deployment decides).
``Knobs`` are the test controls: mutable at runtime, through ``POST /_engine/knobs`` or by
assigning attributes, so an end-to-end test can make the engine slow, flaky, duplicating or
paused *while it runs*, the way a real provider misbehaves. Knobs are deliberately not
persisted: a restarted engine comes back well-behaved unless told otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from daemon.webhooks.signatures import secret_key

TRANSLATORS = ("pseudo", "openai")
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1, 2, 5, 10, 30)


@dataclass(frozen=True)
class EngineSettings:
    """What the engine is: where it stores state, whom it trusts, how it translates."""

    db_path: str
    webhook_secret: str
    api_keys: tuple[str, ...] = ()
    """Accepted ``X-API-Key`` values; empty means any non-empty key is accepted."""
    translator: str = "pseudo"
    """``pseudo`` (deterministic, offline) or ``openai`` (any OpenAI-compatible endpoint)."""
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str | None = dataclasses.field(default=None, repr=False)
    allow_http_callbacks: bool = False
    """Real Lingo.dev rejects ``http://`` callback URLs with 400; tests and embedded mode allow them."""
    engine_id: str = "eng_reference"
    worker_concurrency: int = 16
    """Jobs translated at the same time (the latency knob is per job, so this bounds wall time)."""
    delivery_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.webhook_secret.startswith("whsec_"):
            raise ValueError("webhook_secret must be a 'whsec_<base64>' secret")
        secret_key(self.webhook_secret)  # fail at startup, not at the first delivery
        if self.translator not in TRANSLATORS:
            raise ValueError(f"unknown translator {self.translator!r}; expected 'pseudo' or 'openai'")
        if not self.engine_id.startswith("eng_"):
            raise ValueError("engine_id must start with 'eng_'")
        if self.worker_concurrency < 1:
            raise ValueError("worker_concurrency must be at least 1")


@dataclass
class Knobs:
    """Test controls read by the worker and the deliverer at the moment they act."""

    latency_seconds: float = 0.0
    fail_locales: set[str] = field(default_factory=set)
    fail_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_jitter_seconds: float = 0.0
    pause_deliveries: bool = False
    pause_processing: bool = False
    delivery_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    seed: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    """Injected HTTP faults (429, 5xx, malformed bodies, hangs); see ``daemon.engine.faults``."""
    unknown_status: str | None = None
    """Report queued/processing jobs with this status string (clients must tolerate new values)."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view (sets become sorted lists, tuples lists)."""
        return {
            "latency_seconds": self.latency_seconds,
            "fail_locales": sorted(self.fail_locales),
            "fail_rate": self.fail_rate,
            "duplicate_rate": self.duplicate_rate,
            "reorder_jitter_seconds": self.reorder_jitter_seconds,
            "pause_deliveries": self.pause_deliveries,
            "pause_processing": self.pause_processing,
            "delivery_retry_delays": list(self.delivery_retry_delays),
            "seed": self.seed,
            "faults": [dict(f) for f in self.faults],
            "unknown_status": self.unknown_status,
        }

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial JSON update; all-or-nothing, ``ValueError`` names the bad field."""
        parsed: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in _PARSERS:
                raise ValueError(f"unknown knob {name!r}")
            parsed[name] = _PARSERS[name](name, value)
        for name, value in parsed.items():
            if name == "faults":
                self.faults[:] = value  # the fault injector holds this very list
            else:
                setattr(self, name, value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number")
    return float(value)


def _rate(name: str, value: Any) -> float:
    number = _number(name, value)
    if number > 1:
        raise ValueError(f"{name} must be between 0 and 1")
    return number


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _locales(name: str, value: Any) -> set[str]:
    if not isinstance(value, list | tuple | set) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of locale strings")
    return set(value)


def _delays(name: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be a list of non-negative numbers")
    return tuple(_number(name, v) for v in value)


def _optional_status(name: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{name} must be a non-empty string or null")
    return value


def _faults(name: str, value: Any) -> list[dict[str, Any]]:
    from daemon.engine.faults import parse_faults

    return parse_faults(name, value)


def _seed(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    return value


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "latency_seconds": _number,
    "fail_locales": _locales,
    "fail_rate": _rate,
    "duplicate_rate": _rate,
    "reorder_jitter_seconds": _number,
    "pause_deliveries": _flag,
    "pause_processing": _flag,
    "delivery_retry_delays": _delays,
    "seed": _seed,
    "faults": _faults,
    "unknown_status": _optional_status,
}
