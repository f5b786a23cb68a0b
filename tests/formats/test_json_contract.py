"""The JSON format against the shared format contract."""

from __future__ import annotations

from tests.formats.contract import FormatContract


class TestJsonContract(FormatContract):
    format_name = "json"
    corpus_dirs = ("json-flat", "json-nested")
    corpus_suffixes = (".json",)
    layout_exceptions = {  # noqa: RUF012
        "json-nested/hoppscotch/hoppscotch-common/en.json": "mixes \\u escapes and raw non-ASCII; one style is kept",
    }
    sample = b'{\n  "home": {\n    "title": "Welcome",\n    "count": 3\n  },\n  "flat.key": "Value"\n}\n'
