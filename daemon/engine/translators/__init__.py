"""Translation backends of the reference engine and the factory that picks one.

``pseudo`` needs nothing and is deterministic (tests, offline use); ``openai`` talks to any
OpenAI-compatible chat endpoint for real translations.
"""

from __future__ import annotations

from collections.abc import Sequence

from daemon.engine.settings import EngineSettings
from daemon.engine.translators.base import (
    JobTranslator,
    JobWarning,
    TranslationError,
    TranslationResult,
    placeholder_warnings,
)
from daemon.engine.translators.data import JSONValue, iter_strings, translate_data
from daemon.engine.translators.pseudo import pseudo_translate

__all__ = [
    "JobTranslator",
    "JobWarning",
    "PseudoTranslator",
    "TranslationError",
    "TranslationResult",
    "iter_strings",
    "make_translator",
    "translate_data",
]


class PseudoTranslator:
    """The job-level wrapper of ``pseudo_translate``; it cannot fail and never warns."""

    async def translate(
        self, data: JSONValue, *, source_locale: str, target_locale: str, locked_keys: Sequence[str]
    ) -> TranslationResult:
        output = translate_data(data, target_locale, pseudo_translate, locked_keys)
        return TranslationResult(output, placeholder_warnings(data, output, locked_keys))

    async def aclose(self) -> None:
        return None


def make_translator(settings: EngineSettings) -> JobTranslator:
    """The translator ``settings.translator`` names."""
    if settings.translator == "openai":
        from daemon.engine.translators.openai import OpenAITranslator

        return OpenAITranslator(
            base_url=settings.openai_base_url, model=settings.openai_model, api_key=settings.openai_api_key
        )
    return PseudoTranslator()
