"""Idempotency keys for job groups.

A key names the document, its version and a digest of exactly what is sent. So:

- a resubmission after a crash (same outbox row) reuses the key, and the provider answers
  with the group it already created;
- different content can never reuse an old key, even when the state database is lost and
  version numbers start again at 1: the digest differs;
- identical content resubmitted after losing the database maps to the same key again,
  which is what we want (the provider's existing group is adopted).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from daemon.checksums import payload_digest

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def idempotency_key(document: str, version: int, request: dict[str, Any]) -> str:
    """``locsync-<document slug>-v<version>-<digest>``; at most about 100 characters."""
    slug = _UNSAFE.sub("_", document.replace("[locale]", "L")).strip("_")[:40]
    doc_hash = hashlib.sha256(document.encode()).hexdigest()[:8]
    body = {key: value for key, value in request.items() if key not in ("callbackUrl", "idempotencyKey")}
    return f"locsync-{slug}-{doc_hash}-v{version}-{payload_digest(body)[:24]}"
