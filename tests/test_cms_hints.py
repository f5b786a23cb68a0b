"""CMS webhook hints on a real uvicorn: a static shared header wakes a source's poll, nothing else does."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from daemon.config import load_config
from daemon.webhooks.cms_hints import MAX_HINT_BYTES, CmsHints
from tests.helpers import serve

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-hook-value"

CONFIG = """\
sources:
  - name: blog
    cms:
      kind: strapi
      baseUrl: http://127.0.0.1:9
      collection: articles
      fields: [title]
      webhookSecretEnv: TEST_BLOG_HOOK
    sourceLocale: en
    targetLocales: [de]
  - name: docs
    cms:
      kind: strapi
      baseUrl: http://127.0.0.1:9
      collection: docs
      fields: [title]
      webhookSecretFile: docs-hook.txt
      webhookHeader: X-Docs-Token
    sourceLocale: en
    targetLocales: [de]
  - name: pages
    cms:
      kind: strapi
      baseUrl: http://127.0.0.1:9
      collection: pages
      fields: [title]
    sourceLocale: en
    targetLocales: [de]
  - name: files
    include: ["locales/[locale].json"]
    sourceLocale: en
    targetLocales: [de]
"""


class Server:
    def __init__(self, hints: CmsHints, url: str, calls: list[str]) -> None:
        self.hints = hints
        self.url = url
        self.calls = calls

    async def post(self, source: str, headers: dict[str, str] | None = None, body: bytes = b"{}") -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post(f"{self.url}/webhooks/cms/{source}", content=body, headers=headers or {})


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """One server for the module (uvicorn's shutdown costs ~0.2 s); ``server`` resets its state per test."""
    tmp_path = tmp_path_factory.mktemp("hints")
    (tmp_path / "docs-hook.txt").write_text("docs-secret\n")
    (tmp_path / "locsync.yaml").write_text(CONFIG)
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEST_BLOG_HOOK", SECRET)
        hints = CmsHints.from_config(load_config(tmp_path / "locsync.yaml"), calls.append)
    async with serve(Starlette(routes=[hints.route()])) as url:
        yield Server(hints, url, calls)


@pytest.fixture
def server(running: Server) -> Server:
    running.calls.clear()
    running.hints.counts.clear()
    return running


async def test_from_config_reads_secrets_per_source(server: Server) -> None:
    # sources without a secret, and file sources, accept no hints at all
    assert server.hints.secrets == {"blog": ("X-Hook-Secret", SECRET), "docs": ("X-Docs-Token", "docs-secret")}


async def test_right_header_is_accepted_and_wakes_the_source(server: Server) -> None:
    response = await server.post("blog", {"X-Hook-Secret": SECRET}, b'{"event": "entry.update"}')
    assert response.status_code == 202
    assert server.calls == ["blog"]
    response = await server.post("docs", {"x-docs-token": "docs-secret"})  # header names are case-insensitive
    assert response.status_code == 202
    assert server.calls == ["blog", "docs"]
    assert server.hints.counts == {"accepted": 2}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hook-Secret": ""},
        {"X-Hook-Secret": "wrong"},
        {"X-Hook-Secret": SECRET[:-1]},  # a prefix
        {"X-Hook-Secret": SECRET + "x"},  # an extension
        {"X-Hook-Secret": SECRET.upper()},
        {"X-Hook-Secret": "x" + SECRET},
        {"X-Other": SECRET},  # the right value in the wrong header
        {"Authorization": f"Bearer {SECRET}"},
    ],
)
async def test_wrong_or_missing_header_is_refused(server: Server, headers: dict[str, str]) -> None:
    response = await server.post("blog", headers)
    assert response.status_code == 401
    assert response.json() == {"error": "bad_secret"}
    assert server.calls == []


async def test_another_sources_secret_is_refused(server: Server) -> None:
    response = await server.post("docs", {"X-Docs-Token": SECRET})
    assert response.status_code == 401
    response = await server.post("blog", {"X-Hook-Secret": "docs-secret"})
    assert response.status_code == 401
    assert server.calls == []


async def test_non_ascii_header_value_is_refused_not_an_error(server: Server) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server.url}/webhooks/cms/blog", content=b"{}", headers=[(b"X-Hook-Secret", b"caf\xe9-\xff")]
        )
    assert response.status_code == 401
    assert server.calls == []


@pytest.mark.parametrize("source", ["nope", "pages", "files"])
async def test_unknown_source_or_source_without_secret_is_not_found(server: Server, source: str) -> None:
    response = await server.post(source, {"X-Hook-Secret": SECRET})
    assert response.status_code == 404
    assert response.json() == {"error": "unknown_source"}
    assert server.calls == []


async def test_only_post_is_routed(server: Server) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.url}/webhooks/cms/blog", headers={"X-Hook-Secret": SECRET})
    assert response.status_code == 405
    assert server.calls == []


async def test_body_at_the_limit_is_accepted(server: Server) -> None:
    response = await server.post("blog", {"X-Hook-Secret": SECRET}, b"x" * MAX_HINT_BYTES)
    assert response.status_code == 202
    assert server.calls == ["blog"]


async def test_body_over_the_limit_is_refused(server: Server) -> None:
    response = await server.post("blog", {"X-Hook-Secret": SECRET}, b"x" * (MAX_HINT_BYTES + 1))
    assert response.status_code == 413
    assert response.json() == {"error": "too_large"}
    assert server.calls == []
    assert server.hints.counts == {"too_large": 1}


async def test_secret_comparison_is_constant_time(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every decision goes through hmac.compare_digest on the given and the expected value."""
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (await server.post("blog", {"X-Hook-Secret": "wrong"})).status_code == 401
    assert (await server.post("blog", {"X-Hook-Secret": SECRET})).status_code == 202
    assert (await server.post("blog")).status_code == 401
    assert compared == [(b"wrong", SECRET.encode()), (SECRET.encode(), SECRET.encode()), (b"", SECRET.encode())]
    assert server.calls == ["blog"]


async def test_rejections_are_counted_by_outcome(server: Server) -> None:
    await server.post("blog", {"X-Hook-Secret": "wrong"})
    await server.post("nope")
    await server.post("blog", {"X-Hook-Secret": SECRET})
    assert server.hints.counts == {"bad_secret": 1, "unknown_source": 1, "accepted": 1}
