"""Helpers for the format tests that check real corpus files and source/target pairs.

Each format's test module loads files of the shared corpus (skipping when it is absent, as in
a user's clone) and checks that a render changes only the lines it must; these helpers were
copied into every module before.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from daemon.formats.base import Format, ParsedFile
from tests.formats.contract import CORPUS


def corpus_file(relative: str) -> Path:
    """The file at ``relative`` in the shared corpus; the test is skipped when it is not there."""
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"corpus file {path} is not present")
    return path


def read_corpus(relative: str) -> bytes:
    """The bytes of the corpus file at ``relative`` (see ``corpus_file``)."""
    return corpus_file(relative).read_bytes()


def parse_corpus(fmt: Format, relative: str) -> ParsedFile:
    """The corpus file at ``relative`` parsed by ``fmt``, under its full path."""
    path = corpus_file(relative)
    return fmt.parse(path.read_bytes(), path=str(path))


def diff_lines(before: bytes | str, after: bytes | str, encoding: str = "utf-8") -> list[str]:
    """The removed (``-``) and added (``+``) lines from ``before`` to ``after``.

    Lines are split on ``\\n`` only: ``str.splitlines()`` would also break at U+0085, U+2028...
    inside values, and a CR of a CRLF file stays part of its line.
    """
    a = before.decode(encoding) if isinstance(before, bytes) else before
    b = after.decode(encoding) if isinstance(after, bytes) else after
    diff = difflib.unified_diff(a.split("\n"), b.split("\n"), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
