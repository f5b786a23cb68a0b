"""The OpenAI-compatible translator against a fake chat-completions server.

``FakeOpenAI`` is a tiny Starlette app on real uvicorn that stands in for the vendor (OpenAI
or any server copying its API); no request leaves 127.0.0.1. It "translates" by prefixing
every value with ``<target>:`` and can be switched into each failure mode the translator
must turn into a clear job failure.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from daemon.engine import EngineSettings
from daemon.engine.translators import TranslationError
from daemon.engine.translators.openai import OpenAITranslator
from tests.engine.conftest import running_engine
from tests.helpers import serve

pytestmark = pytest.mark.anyio

VENDOR_KEY = "sk-test-vendor-key"


@dataclass
class FakeOpenAI:
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.auth.append(request.headers.get("authorization"))
            if self.mode == "http_500":
                return PlainTextResponse("upstream exploded", status_code=500)
            if self.mode == "not_json":
                return PlainTextResponse("<html>gateway</html>")
            system, user = body["messages"][0]["content"], body["messages"][1]["content"]
            target = re.search(r" to (\S+)\. ", system)
            assert target is not None
            strings: dict[str, str] = json.loads(user)
            answer: dict[str, Any] = {k: f"{target.group(1)}:{v}" for k, v in strings.items()}
            if self.mode == "missing_key":
                answer.pop(sorted(answer)[-1])
            if self.mode == "drop_placeholder":
                answer = {k: v.replace("{name}", "") for k, v in answer.items()}
            content = json.dumps(answer, ensure_ascii=False)
            if self.mode == "fenced":
                content = f"```json\n{content}\n```"
            if self.mode == "bad_content":
                content = "Sure! Here are your translations: ..."
            return JSONResponse({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


@pytest.fixture
async def vendor() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    async with serve(fake.app()) as url:
        fake.url = url + "/v1"
        yield fake


async def test_translates_in_one_batch_and_keeps_structure(vendor: FakeOpenAI) -> None:
    translator = OpenAITranslator(base_url=vendor.url, model="tiny-model", api_key=VENDOR_KEY)
    try:
        data = {"a": "Hello {name}", "b": ["Hello {name}", 3, {"c": "Bye"}], "id": "x", "blank": ""}
        result = await translator.translate(data, source_locale="en", target_locale="de", locked_keys=["id"])
    finally:
        await translator.aclose()
    assert result.output == {
        "a": "de:Hello {name}",
        "b": ["de:Hello {name}", 3, {"c": "de:Bye"}],
        "id": "x",
        "blank": "",
    }
    assert result.warnings == []
    [request] = vendor.requests
    assert request["model"] == "tiny-model"
    assert json.loads(request["messages"][1]["content"]) == {"s0": "Hello {name}", "s1": "Bye"}  # deduplicated
    assert "placeholder" in request["messages"][0]["content"]
    assert vendor.auth == [f"Bearer {VENDOR_KEY}"]


async def test_batches_and_optional_key(vendor: FakeOpenAI) -> None:
    translator = OpenAITranslator(base_url=vendor.url + "/", model="m", batch_size=2)
    try:
        vendor.mode = "fenced"
        result = await translator.translate(
            {"k": [f"s{i}" for i in range(5)]}, source_locale="en", target_locale="fr", locked_keys=[]
        )
    finally:
        await translator.aclose()
    assert result.output == {"k": [f"fr:s{i}" for i in range(5)]}
    assert len(vendor.requests) == 3
    assert vendor.auth == [None, None, None]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("http_500", "HTTP 500: upstream exploded"),
        ("not_json", "response is not JSON"),
        ("bad_content", "reply is not valid JSON"),
        ("missing_key", "missing 1 of 2 strings (s1)"),
    ],
)
async def test_errors_become_translation_errors(vendor: FakeOpenAI, mode: str, message: str) -> None:
    vendor.mode = mode
    translator = OpenAITranslator(base_url=vendor.url, model="m", api_key=VENDOR_KEY)
    try:
        with pytest.raises(TranslationError) as caught:
            await translator.translate({"a": "x", "b": "y"}, source_locale="en", target_locale="de", locked_keys=[])
    finally:
        await translator.aclose()
    assert message in str(caught.value)
    assert VENDOR_KEY not in str(caught.value)


async def test_unreachable_endpoint(vendor: FakeOpenAI) -> None:
    translator = OpenAITranslator(base_url="http://127.0.0.1:9/v1", model="m")
    try:
        with pytest.raises(TranslationError, match=r"request to 127\.0\.0\.1 failed: ConnectError"):
            await translator.translate({"a": "x"}, source_locale="en", target_locale="de", locked_keys=[])
    finally:
        await translator.aclose()


async def test_engine_with_openai_translator(vendor: FakeOpenAI, settings: EngineSettings) -> None:
    openai_settings = dataclasses.replace(
        settings, translator="openai", openai_base_url=vendor.url, openai_model="m", openai_api_key=VENDOR_KEY
    )
    async with running_engine(openai_settings) as eng:
        ok = await eng.create(targetLocales=["de"], data={"t": "Hi {name}"})
        await eng.wait_group(ok["groupId"])
        job = await eng.job(ok["jobs"][0]["id"])
        assert (job["status"], job["outputData"]) == ("completed", {"t": "de:Hi {name}"})

        vendor.mode = "drop_placeholder"
        warned = await eng.create(targetLocales=["fr"], data={"t": "Hi {name}"})
        group = await eng.wait_group(warned["groupId"])
        assert group["status"] == "completed"
        assert group["completedWithWarningsJobs"] == 1
        job = await eng.job(warned["jobs"][0]["id"])
        assert job["status"] == "completed_with_warnings"
        assert job["warnings"] == [{"code": "placeholder_mismatch", "path": "t", "message": "missing {name}"}]

        vendor.mode = "http_500"
        failed = await eng.create(targetLocales=["ja"], data={"t": "Hi"})
        group = await eng.wait_group(failed["groupId"])
        assert group["status"] == "failed"
        assert group["jobs"][0]["errorMessage"] == "translator answered HTTP 500: upstream exploded"
