"""Lingo.dev's async localization API (and our reference engine, which speaks the same).

Error mapping follows the documented seven status codes: 5xx and transport errors are
transient (``ProviderUnavailable``: retry with the same idempotency key); 402 (credit
limit) and 429 (daily token quota) are ``ProviderQuota`` (back off long, report); any
other 4xx is ``ProviderRejected``. Only the ``message`` field of an error body is read,
and the API key never appears in an error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from daemon.errors import ProviderQuota, ProviderRejected, ProviderUnavailable
from daemon.providers.base import GroupRef, JobRef, JobResult, Provider, SubmitRequest, WebhookEvent
from daemon.secrets import Secret

if TYPE_CHECKING:
    import httpx

    from daemon.config import ProviderConfig


class LingoProvider(Provider):
    name: ClassVar[str] = "lingo"

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """The HTTP client, made on the first request: importing httpx and building its TLS
        context costs ~50 ms and a few MB, wasted on a run that never reaches the provider
        (``sync --once`` with nothing to send, an idle daemon between probes)."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers={"X-API-Key": self._api_key.reveal(), "User-Agent": "locsync"},
                timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
                transport=self._transport,
                # a plain-http base URL (the embedded engine on loopback) never does TLS: every
                # request is relative to it and redirects are not followed, so skip building a
                # certificate store (~3 MB, ~50 ms); an https URL is verified as always
                verify=not self.base_url.startswith("http://"),
            )
        return self._http

    @classmethod
    def from_config(cls, config: ProviderConfig, api_key: Secret) -> LingoProvider:
        return cls(config.base_url, api_key, timeout=config.timeout_seconds)

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(self.name, None, f"timeout on {method} {path}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(self.name, None, f"{type(exc).__name__} on {method} {path}") from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise ProviderUnavailable(self.name, response.status_code, "response is not JSON") from exc
        detail = _message(response)
        retry_after = _retry_after(response)
        if response.status_code in (402, 429):
            raise ProviderQuota(self.name, response.status_code, detail, retry_after)
        if response.status_code >= 500 or response.status_code == 408:
            raise ProviderUnavailable(self.name, response.status_code, detail, retry_after)
        raise ProviderRejected(self.name, response.status_code, detail)

    async def submit(self, request: SubmitRequest) -> GroupRef:
        body = await self._request("POST", "/jobs/localization", json=request.body())
        return _group(body, self.name)

    async def get_group(self, group_id: str) -> GroupRef:
        body = await self._request("GET", f"/jobs/localization/groups/{group_id}")
        return _group(body, self.name)

    async def get_job(self, job_id: str) -> JobResult:
        body = await self._request("GET", f"/jobs/localization/{job_id}")
        try:
            output = body.get("outputData")
            return JobResult(
                job_id=str(body["id"]),
                group_id=str(body["groupId"]),
                locale=str(body["targetLocale"]),
                status=str(body["status"]),
                output=output if isinstance(output, dict) else None,
                error=body.get("errorMessage"),
                warnings=tuple(body.get("warnings") or ()),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ProviderUnavailable(self.name, 200, f"unexpected job body: missing {exc}") from exc

    async def list_jobs(self, *, status: str | None = None, limit: int = 100) -> AsyncIterator[JobRef]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit}
            if status:
                params["status"] = status
            if cursor:
                params["cursor"] = cursor
            page = await self._request("GET", "/jobs/localization", params=params)
            for item in page.get("items") or []:
                yield JobRef(str(item["id"]), str(item.get("targetLocale", "")), str(item.get("status", "")))
            cursor = page.get("nextCursor")
            if not cursor:
                return

    def parse_webhook(self, body: bytes) -> WebhookEvent:
        try:
            payload = json.loads(body)
            kind = str(payload["type"])
            data = payload.get("data")
            return WebhookEvent(
                type=kind,
                job_id=str(payload["jobId"]),
                group_id=str(payload.get("groupId", "")),
                locale=str(payload.get("targetLocale", "")),
                data=data if isinstance(data, dict) else None,
                error=payload.get("error"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed webhook payload: {exc}") from exc

    async def check(self) -> None:
        await self._request("GET", "/jobs/localization", params={"limit": 1})

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _group(body: Any, provider: str) -> GroupRef:
    try:
        group_id = str(body.get("groupId") or body["id"])
        jobs = tuple(
            JobRef(str(job["id"]), str(job["targetLocale"]), str(job.get("status", "queued")))
            for job in body.get("jobs") or []
        )
        return GroupRef(group_id, str(body.get("status", "pending")), jobs)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProviderUnavailable(provider, 200, f"unexpected group body: missing {exc}") from exc


def _message(response: httpx.Response) -> str:
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message)[:500] if message else response.reason_phrase or "error"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
