"""Request validation for the public endpoints, with Lingo.dev's 400 semantics.

Every problem becomes ``RequestError`` whose message goes out as ``{"message": ...}``
(api-contracts §1.3: clients branch on the status code, the text is for humans). The checks
follow the docs: BCP-47 locales, 1–100 distinct targets, an object ``data``, and an HTTPS
``callbackUrl`` (http is allowed only when the engine is configured for tests/embedding).
Fields the engine does not act on (``context``, ``hints``, ``pipelineConfig``) are
type-checked and kept in the stored request, so nothing a client sends is silently lost.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from daemon.engine.rollup import JOB_STATUSES

MAX_TARGET_LOCALES = 100
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 20
# language (2-3 letters, or 4-8 registered), then subtags of 1-8 alphanumerics: en, pt-BR, zh-Hant-TW, es-419
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")


class RequestError(Exception):
    """A 400: the request is invalid; ``str(error)`` is the message for the client."""


@dataclass(frozen=True)
class CreateRequest:
    source_locale: str
    target_locales: list[str]
    data: dict[str, Any]
    callback_url: str | None
    idempotency_key: str | None
    engine_id: str | None
    locked_keys: list[str]
    raw: dict[str, Any]


@dataclass(frozen=True)
class ListQuery:
    limit: int
    engine_id: str | None
    status: str | None
    before: tuple[str, str] | None


def is_locale(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 35 and _LOCALE.match(value) is not None


def parse_json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError("request body must be valid JSON") from exc


def parse_create(body: Any, *, allow_http_callbacks: bool) -> CreateRequest:
    """Validate a ``POST /jobs/localization`` body."""
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object")
    source = body.get("sourceLocale")
    if source is None:
        raise RequestError("sourceLocale is required")
    if not is_locale(source):
        raise RequestError(f"sourceLocale {source!r} is not a valid BCP-47 locale")
    targets = body.get("targetLocales")
    if targets is None:
        raise RequestError("targetLocales is required")
    if not isinstance(targets, list):
        raise RequestError("targetLocales must be an array of locales")
    if not 1 <= len(targets) <= MAX_TARGET_LOCALES:
        raise RequestError(f"targetLocales must hold between 1 and {MAX_TARGET_LOCALES} locales")
    seen: set[str] = set()
    for target in targets:
        if not is_locale(target):
            raise RequestError(f"targetLocales contains an invalid locale: {target!r}")
        if target.lower() == source.lower():
            raise RequestError(f"targetLocales must not contain the source locale {source!r}")
        if target.lower() in seen:
            raise RequestError(f"targetLocales contains {target!r} more than once")
        seen.add(target.lower())
    data = body.get("data")
    if data is None:
        raise RequestError("data is required")
    if not isinstance(data, dict):
        raise RequestError("data must be a JSON object")
    callback = _optional_str(body, "callbackUrl")
    if callback is not None:
        _check_callback(callback, allow_http=allow_http_callbacks)
    key = _optional_str(body, "idempotencyKey")
    if key is not None and not 1 <= len(key) <= 255:
        raise RequestError("idempotencyKey must be 1 to 255 characters")
    engine_id = _optional_str(body, "engineId")
    if engine_id is not None and not engine_id.startswith("eng_"):
        raise RequestError("engineId must look like eng_...")
    locked = body.get("lockedKeys", [])
    if not isinstance(locked, list) or not all(isinstance(k, str) and k for k in locked):
        raise RequestError("lockedKeys must be an array of non-empty strings")
    _optional_str(body, "context")
    for name in ("hints", "pipelineConfig"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise RequestError(f"{name} must be a JSON object")
    return CreateRequest(
        source_locale=source,
        target_locales=list(targets),
        data=data,
        callback_url=callback,
        idempotency_key=key,
        engine_id=engine_id,
        locked_keys=list(locked),
        raw=body,
    )


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise RequestError(f"{name} must be a string")
    return value


def _check_callback(url: str, *, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme == "http" and not allow_http:
        raise RequestError("callbackUrl must use https")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RequestError("callbackUrl must be an absolute https URL")


def parse_list_query(params: dict[str, str]) -> ListQuery:
    """Validate the query of ``GET /jobs/localization``."""
    raw_limit = params.get("limit")
    limit = DEFAULT_LIST_LIMIT
    if raw_limit is not None:
        if not raw_limit.isdigit():
            raise RequestError("limit must be a positive integer")
        limit = int(raw_limit)
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise RequestError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    status = params.get("status") or None
    if status is not None and status not in JOB_STATUSES:
        raise RequestError(f"status must be one of {', '.join(JOB_STATUSES)}")
    cursor = params.get("cursor") or None
    return ListQuery(
        limit=limit,
        engine_id=params.get("engineId") or None,
        status=status,
        before=decode_cursor(cursor) if cursor is not None else None,
    )


def encode_cursor(created_at: str, job_id: str) -> str:
    """An opaque cursor: the position (``createdAt``, ``id``) of the last item of a page."""
    raw = json.dumps({"t": created_at, "i": job_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise RequestError("cursor is not valid; pass back a nextCursor unchanged") from exc
    if (
        not isinstance(position, dict)
        or not isinstance(position.get("t"), str)
        or not isinstance(position.get("i"), str)
    ):
        raise RequestError("cursor is not valid; pass back a nextCursor unchanged")
    return position["t"], position["i"]
