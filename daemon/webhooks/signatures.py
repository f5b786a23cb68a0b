"""Standard Webhooks signatures (the scheme Lingo.dev uses), both directions.

The signed string is ``{id}.{timestamp}.{raw body}``: the raw bytes as received, never a
re-serialisation. Secrets look like ``whsec_<base64 key>`` and the HMAC key is the
decoded bytes. A header may carry several space-separated ``v1,<b64>`` entries (key
rotation) and any match is enough. Every malformed input raises ``WebhookRejected``
with status 401, never another exception: a 500 would only make the sender retry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from daemon.errors import WebhookRejected

DEFAULT_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """Return the HMAC key bytes of a ``whsec_`` secret (the prefix is optional)."""
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret must be 'whsec_' followed by base64") from exc


@lru_cache(maxsize=16)
def _keyed(secret: str) -> hmac.HMAC:
    """An HMAC primed with the key of ``secret``, to ``copy()`` per message.

    Decoding the secret and hashing the key pads cost about as much as hashing a delivery;
    the receiver verifies with the same one or two secrets every time.
    """
    return hmac.new(secret_key(secret), digestmod=hashlib.sha256)


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64>`` signature of one delivery."""
    mac = _keyed(secret).copy()
    mac.update(f"{webhook_id}.{timestamp}.".encode())
    mac.update(body)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signed_headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a sender attaches to a delivery."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check one delivery and return its ``webhook-id``.

    ``secrets`` may hold several secrets during a roll-over; any of them may match.
    Raises ``WebhookRejected`` (401) with a fixed reason code otherwise.
    """
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signature_header = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signature_header:
        raise WebhookRejected("missing_headers", 401, "webhook-id, -timestamp and -signature are required")
    if "." in webhook_id or len(webhook_id) > 256:
        raise WebhookRejected("bad_id", 401, "webhook-id is malformed")
    if not _TIMESTAMP.match(timestamp):
        raise WebhookRejected("bad_timestamp", 401, "webhook-timestamp is not a Unix time in seconds")
    if abs(now - int(timestamp)) > tolerance:
        raise WebhookRejected("stale_timestamp", 401, f"timestamp is more than {tolerance}s from now")
    offered = []
    for entry in signature_header.split():
        version, _, value = entry.partition(",")
        if version == "v1" and value:
            offered.append(value.encode())
    if not offered:
        raise WebhookRejected("bad_signature_header", 401, "no v1 signature in webhook-signature")
    for secret in secrets:
        expected = sign(secret, webhook_id, int(timestamp), body).partition(",")[2].encode()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return webhook_id
    raise WebhookRejected("bad_signature", 401, "no signature matches a configured secret")
