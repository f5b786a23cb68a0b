"""File discovery: an include pattern's ``**/`` is zero or more folders, as in ``Path.glob``.

Discovery lists files with ``Path.glob`` and then names each by matching the pattern as a regex;
the two must agree, or a file that glob finds is silently not a document (``**/`` used to need
at least one folder in the regex, so ``locales/**/[locale].json`` never synced ``locales/en.json``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.sources.files import FileSource
from tests.integration.conftest import make_project


@pytest.mark.parametrize(("pattern", "files", "ids"), [
    ("locales/**/[locale].json", ["locales/en.json", "locales/app/en.json", "locales/a/b/en.json"],
     {"locales/[locale].json", "locales/app/[locale].json", "locales/a/b/[locale].json"}),
    ("**/i18n/[locale].json", ["i18n/en.json", "web/i18n/en.json", "webi18n/en.json"],
     {"i18n/[locale].json", "web/i18n/[locale].json"}),
])
def test_double_star_slash_matches_zero_or_more_folders(
    tmp_path: Path, pattern: str, files: list[str], ids: set[str]
) -> None:
    loaded = make_project(tmp_path / "repo", {"a": "A"}, source_extra={"include": [pattern]})
    for name in files:
        path = loaded.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"a": "A"}\n')
    source = FileSource(loaded.config.sources[0], loaded.root)
    assert {doc.id for doc in source.documents()} == ids
    for name in files:
        found = source.document_id(loaded.root / name)
        assert (found is not None) == (name != "webi18n/en.json"), name
