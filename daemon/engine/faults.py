"""Provider misbehaviour on demand: the ``faults`` knob, applied in front of the API routes.

Each fault is a JSON object ``{"method": "POST", "path": "/jobs/localization", "count": 3,
"kind": "status" | "malformed" | "hang", "status": 429, "retry_after": 1, "hang_seconds": 30}``;
``method`` ("*" for any) and ``path`` (a prefix) select requests, ``count`` says how many
matching requests it takes before it is used up. ``status`` answers with that code and the
documented ``{"message": ...}`` body (plus ``Retry-After`` when given); ``malformed`` answers
200 with a body that is not JSON; ``hang`` waits ``hang_seconds`` before answering normally,
so a client with a shorter timeout sees a timeout. ``/_engine/`` itself is never faulted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableSequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

KINDS = ("status", "malformed", "hang")


def parse_faults(name: str, value: Any) -> list[dict[str, Any]]:
    """Validate the knob; ``ValueError`` names what is wrong."""
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list of fault objects")
    faults = []
    for item in value:
        if not isinstance(item, dict):
            raise ValueError(f"{name} entries must be objects")
        fault = {"method": "*", "path": "/", "count": 1, "kind": "status", "status": 500, **item}
        if fault["kind"] not in KINDS:
            raise ValueError(f"{name}: kind must be one of {', '.join(KINDS)}")
        if not isinstance(fault["count"], int) or fault["count"] < 1:
            raise ValueError(f"{name}: count must be a positive integer")
        if not isinstance(fault["status"], int) or not 100 <= fault["status"] <= 599:
            raise ValueError(f"{name}: status must be an HTTP status code")
        faults.append(fault)
    return faults


class FaultInjector:
    """ASGI middleware that consumes matching faults from a live (mutable) list."""

    def __init__(self, app: ASGIApp, faults: MutableSequence[dict[str, Any]] | None = None) -> None:
        self.app = app
        self.faults: MutableSequence[dict[str, Any]] = faults if faults is not None else []

    def _take(self, method: str, path: str) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault["method"] in ("*", method) and path.startswith(fault["path"]):
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        relative = path[len(root):] if root and path.startswith(root) else path
        if scope["type"] != "http" or relative.startswith("/_engine/"):
            await self.app(scope, receive, send)
            return
        fault = self._take(scope["method"], relative)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault["kind"] == "hang":
            await asyncio.sleep(float(fault.get("hang_seconds", 30)))
            await self.app(scope, receive, send)
            return
        if fault["kind"] == "malformed":
            status, body, content_type = 200, b'{"groupId": "ljg_', b"application/json"
        else:
            status = fault["status"]
            body = json.dumps({"message": f"injected fault {status}"}).encode()
            content_type = b"application/json"
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if "retry_after" in fault:
            headers.append((b"retry-after", str(fault["retry_after"]).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
