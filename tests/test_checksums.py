"""value_hash: the fast path for plain strings hashes exactly the bytes json.dumps would."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from daemon.checksums import value_hash


def reference(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:20]


@given(st.text() | st.sampled_from(['say "hi"', "back\\slash", "tab\there", "nl\n", "\x00", "\x1f", "\x7f", "é ü 字 🙂"]))
def test_strings_hash_as_json_dumps(value: str) -> None:
    assert value_hash(value) == reference(value)


@given(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False))
def test_other_leaves_hash_as_json_dumps(value: Any) -> None:
    assert value_hash(value) == reference(value)


def test_types_differ() -> None:
    assert value_hash("1") != value_hash(1)
    assert value_hash("true") != value_hash(True)
