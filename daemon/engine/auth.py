"""``X-API-Key`` checking, shared by the REST routes and the WebSocket upgrade.

With no keys configured any non-empty key is accepted (a local engine needs no account),
but a missing key is still a 401, so clients that forget the header fail here as they
would against the real service. Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac

from daemon.engine.settings import EngineSettings

HEADER = "x-api-key"


def api_key_ok(settings: EngineSettings, offered: str | None) -> bool:
    if not offered:
        return False
    if not settings.api_keys:
        return True
    return any(hmac.compare_digest(offered.encode(), key.encode()) for key in settings.api_keys)
