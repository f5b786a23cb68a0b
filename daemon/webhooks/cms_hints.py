"""CMS webhooks: hints that a source changed, which wake its feed poll.

A CMS webhook is never trusted for content: the poll reads the feed and the entries
through the API, so a forged or replayed hint costs one poll and nothing else. Strapi and
Directus sign nothing; they send a static header configured on the webhook, which is
compared in constant time. Sources without a configured secret accept no hints (they are
polled every ``pollSeconds``).

Route: ``POST /webhooks/cms/<source name>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from daemon.config import LoadedConfig
from daemon.secrets import load_secret

log = structlog.get_logger("locsync.webhooks")

MAX_HINT_BYTES = 1_048_576


class CmsHints:
    """Verifies hint deliveries per source and calls ``on_hint(source name)``."""

    def __init__(self, secrets: dict[str, tuple[str, str]], on_hint: Callable[[str], None]) -> None:
        self.secrets = secrets  # source name -> (header, secret)
        self.on_hint = on_hint
        self.counts: dict[str, int] = {}

    @classmethod
    def from_config(cls, loaded: LoadedConfig, on_hint: Callable[[str], None], *, base: Path | None = None) -> CmsHints:
        secrets: dict[str, tuple[str, str]] = {}
        for source in loaded.config.sources:
            cms = source.cms
            if cms is None:
                continue
            secret = load_secret(
                env=cms.webhook_secret_env, file=cms.webhook_secret_file, credential=cms.webhook_secret_credential,
                base=base or loaded.base,
            )
            if secret is not None:
                secrets[source.label] = (cms.webhook_header, secret.reveal())
        return cls(secrets, on_hint)

    def route(self) -> Route:
        return Route("/webhooks/cms/{source}", self.handle, methods=["POST"])

    def _count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    async def handle(self, request: Request) -> Response:
        name = request.path_params["source"]
        expected = self.secrets.get(name)
        if expected is None:
            self._count("unknown_source")
            return JSONResponse({"error": "unknown_source"}, status_code=404)
        header, secret = expected
        given = request.headers.get(header, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            self._count("bad_secret")
            log.warning("cms_hint_rejected", source=name, reason="bad_secret", header=header)
            return JSONResponse({"error": "bad_secret"}, status_code=401)
        size = 0
        async for chunk in request.stream():  # drained, never parsed: the poll reads the API
            size += len(chunk)
            if size > MAX_HINT_BYTES:
                self._count("too_large")
                return JSONResponse({"error": "too_large"}, status_code=413)
        self._count("accepted")
        log.info("cms_hint_received", source=name, body_bytes=size)
        self.on_hint(name)
        return JSONResponse({"ok": True}, status_code=202)
