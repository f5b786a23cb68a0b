"""Content checksums of leaf values and payloads (stable across runs and machines)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

# what json.dumps escapes in a str (ensure_ascii=False): the quote, the backslash, C0 controls
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def value_hash(value: Any) -> str:
    """A short, stable hash of one leaf value (type-aware: ``1`` and ``"1"`` differ).

    The bytes hashed are ``json.dumps(value)``'s, so hashes stored by any version stay valid; a
    plain string (nearly every value) is quoted directly, without the encoder's machinery,
    because a scan of 10,000 keys hashes each one several times.
    """
    if type(value) is str and _JSON_ESCAPED.search(value) is None:
        encoded = ('"' + value + '"').encode()
    else:
        encoded = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def key_checksums(entries: Mapping[str, Any]) -> dict[str, str]:
    """``value_hash`` of every entry, by key: what the planner plans with and records."""
    return {key: value_hash(value) for key, value in entries.items()}


def payload_digest(payload: Any) -> str:
    """The full SHA-256 of a JSON payload in canonical form (sorted keys, UTF-8)."""
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
