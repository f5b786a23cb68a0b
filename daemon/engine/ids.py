"""Identifiers and timestamps in the shapes Lingo.dev uses.

IDs are a prefix plus 16 alphanumerics (``ljg_A1b2C3d4E5f6G7h8``), drawn from ``secrets`` so
two engines sharing nothing still never collide. Timestamps are ISO-8601 UTC with
milliseconds and a ``Z`` (``2026-03-16T10:30:00.000Z``): fixed width, so they sort as strings,
which the list endpoint's ``createdAt, id`` ordering relies on.
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

_ALPHABET = string.ascii_letters + string.digits

GROUP_PREFIX = "ljg_"
JOB_PREFIX = "ljb_"


def new_id(prefix: str) -> str:
    """A fresh ``<prefix><16 alphanumerics>`` identifier."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def iso_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
