"""Retry delays: full-jitter exponential back-off with a cap, honouring Retry-After.

Full jitter (a uniform draw between 0 and the exponential bound) spreads retries of many
clients apart; the random source is injected so tests are deterministic.
"""

from __future__ import annotations

import random

from daemon.errors import ProviderError, ProviderQuota, ProviderUnavailable

QUOTA_BACKOFF_SECONDS = 15 * 60


def full_jitter(attempt: int, *, base: float = 0.5, cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (0-based)."""
    bound = min(cap, base * (2 ** min(attempt, 32)))
    return (rng or random).uniform(0, bound)


def delay_for(error: ProviderError, attempt: int, *, rng: random.Random | None = None) -> float | None:
    """How long to wait after ``error``; None when retrying cannot help."""
    if isinstance(error, ProviderQuota):
        return max(error.retry_after or 0.0, QUOTA_BACKOFF_SECONDS if error.retry_after is None else 0.0)
    if isinstance(error, ProviderUnavailable):
        delay = full_jitter(attempt, rng=rng)
        return max(delay, error.retry_after or 0.0)
    return None
