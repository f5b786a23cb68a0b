"""Real translations through any OpenAI-compatible chat-completions endpoint.

Works with OpenAI itself and with the many servers that copy its API (vLLM, Ollama,
LM Studio, llama.cpp, OpenRouter…): ``POST {base_url}/chat/completions`` with an optional
bearer key. All strings of a job go out as one JSON object (``{"s0": "…", "s1": "…"}``) per
batch, and the model must answer with the same keys: one round trip per batch instead of
per string, and keys make the answer easy to map back. Every way the call can go wrong
(transport, HTTP status, a reply that is not JSON, missing or non-string keys) becomes a
``TranslationError`` whose message says which, so the failed job explains itself. The API
key only ever travels in the ``Authorization`` header; it is never part of an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from daemon.engine.translators.base import TranslationError, TranslationResult, placeholder_warnings
from daemon.engine.translators.data import JSONValue, iter_strings, translate_data

SYSTEM_PROMPT = (
    "You are a professional software localization engine. Translate every value of the JSON object "
    "the user sends from {source} to {target}. Answer with a JSON object that has exactly the same keys "
    "and the translated strings as values, and nothing else. Keep every placeholder and markup exactly "
    "as written and untranslated: {{name}}, {{{{name}}}}, %s, %d, %1$s, %(name)s, %{{name}}, HTML/XML tags "
    "such as <b> and </b>, entities such as &amp;, and escape sequences such as \\n. For ICU "
    "MessageFormat ({{count, plural, one {{# item}} other {{# items}}}}) keep the argument name, the "
    "keyword, the selectors and #, and translate only the text inside the branches."
)


class OpenAITranslator:
    """A ``JobTranslator`` backed by a chat-completions endpoint."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        batch_size: int = 50,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key = api_key
        self._timeout = timeout
        self._batch_size = batch_size
        self._client: httpx.AsyncClient | None = None

    async def translate(
        self, data: JSONValue, *, source_locale: str, target_locale: str, locked_keys: Sequence[str]
    ) -> TranslationResult:
        unique = list(dict.fromkeys(text for _, text in iter_strings(data, locked_keys) if text.strip()))
        answers: dict[str, str] = {}
        for start in range(0, len(unique), self._batch_size):
            batch = unique[start : start + self._batch_size]
            answers.update(zip(batch, await self.translate_strings(batch, source_locale, target_locale), strict=True))
        output = translate_data(data, target_locale, lambda text, _locale: answers.get(text, text), locked_keys)
        return TranslationResult(output, placeholder_warnings(data, output, locked_keys))

    async def translate_strings(self, strings: Sequence[str], source_locale: str, target_locale: str) -> list[str]:
        """Translate ``strings`` in one request; the answer is in the same order."""
        if not strings:
            return []
        keys = [f"s{i}" for i in range(len(strings))]
        request = {
            "model": self._model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT.format(source=source_locale, target=target_locale)},
                {"role": "user", "content": json.dumps(dict(zip(keys, strings, strict=True)), ensure_ascii=False)},
            ],
        }
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = await self._http().post(self._url, json=request, headers=headers)
        except httpx.HTTPError as exc:
            host = httpx.URL(self._url).host
            raise TranslationError(f"translator request to {host} failed: {type(exc).__name__}") from exc
        if not response.is_success:
            snippet = " ".join(response.text.split())[:200]
            raise TranslationError(f"translator answered HTTP {response.status_code}: {snippet}")
        reply = _reply_object(response)
        missing = [k for k in keys if k not in reply]
        if missing:
            raise TranslationError(
                f"translator reply is missing {len(missing)} of {len(keys)} strings ({', '.join(missing[:10])})"
            )
        not_text = [k for k in keys if not isinstance(reply[k], str)]
        if not_text:
            raise TranslationError(f"translator reply has non-string values for {', '.join(not_text[:10])}")
        return [str(reply[k]) for k in keys]

    def _http(self) -> httpx.AsyncClient:
        # Created lazily so it binds to the event loop the engine actually runs in.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _reply_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object inside ``choices[0].message.content`` (code fences tolerated)."""
    try:
        body = response.json()
    except ValueError as exc:
        raise TranslationError("translator response is not JSON") from exc
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise TranslationError("translator response has no choices[0].message.content") from exc
    if not isinstance(content, str):
        raise TranslationError("translator message content is not a string")
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        reply = json.loads(text)
    except ValueError as exc:
        raise TranslationError("translator reply is not valid JSON") from exc
    if not isinstance(reply, dict):
        raise TranslationError("translator reply is not a JSON object")
    return reply
