"""Content checksums of leaf values and payloads (stable across runs and machines)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def value_hash(value: Any) -> str:
    """A short, stable hash of one leaf value (type-aware: ``1`` and ``"1"`` differ)."""
    encoded = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def payload_digest(payload: Any) -> str:
    """The full SHA-256 of a JSON payload in canonical form (sorted keys, UTF-8)."""
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
