"""Format tests read real files from ``../shared/corpus``; a user's clone has no such folder.

Tests that open corpus files directly are reported as skipped (with the reason) instead of
failing when the corpus is absent; with the corpus present nothing changes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from tests.helpers import shared_corpus


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    outcome = yield
    corpus = shared_corpus()
    if corpus.is_dir():
        return
    error = outcome.excinfo[1] if outcome.excinfo else None
    if isinstance(error, FileNotFoundError) and str(corpus) in str(error.filename or ""):
        outcome.force_exception(pytest.skip.Exception(f"the shared corpus ({corpus}) is not present", _use_item_location=True))
