"""The conformance suite every format passes (vdirsyncer's ``StorageTests`` pattern).

A format's test module subclasses ``FormatContract`` and sets ``format_name``, ``corpus_dirs``
(folders under the shared corpus holding that format's files), ``corpus_suffixes`` and
``sample`` (a small valid file as bytes). The inherited tests check:

- every corpus file round-trips byte for byte (``render(parse(b).entries, source=p, target=p) == b``);
- re-rendering from the layout alone (target=None) parses back to the same entries;
- changing one string value changes only that value's lines (diff of at most ``max_changed_lines``);
- any byte string either parses or raises ``FormatError`` (never another exception).
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Format, ParsedFile
from tests.helpers import shared_corpus

CORPUS = shared_corpus()


def corpus_files(dirs: tuple[str, ...], suffixes: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for folder in dirs:
        base = CORPUS / folder
        if base.is_dir():
            files += sorted(p for p in base.rglob("*") if p.is_file() and p.name.endswith(suffixes))
    return files


def changed_lines(before: bytes, after: bytes) -> int:
    diff = difflib.unified_diff(before.decode("utf-8", "replace").splitlines(),
                                after.decode("utf-8", "replace").splitlines(), lineterm="", n=0)
    return sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))


def first_string_key(parsed: ParsedFile) -> Iterator[str]:
    for key, value in parsed.entries.items():
        if isinstance(value, str) and value.strip() and "\n" not in value:
            yield key


class FormatContract:
    format_name: ClassVar[str]
    corpus_dirs: ClassVar[tuple[str, ...]] = ()
    corpus_suffixes: ClassVar[tuple[str, ...]] = ()
    sample: ClassVar[bytes]
    max_changed_lines: ClassVar[int] = 2  # one line removed, one added
    # corpus files (relative to the corpus) allowed to change more lines, each with the reason
    layout_exceptions: ClassVar[dict[str, str]] = {}

    @property
    def fmt(self) -> Format:
        return get_format(self.format_name)

    def corpus(self) -> list[Path]:
        if not CORPUS.is_dir():
            pytest.skip(f"the shared corpus ({CORPUS}) is not present")
        files = corpus_files(self.corpus_dirs, self.corpus_suffixes)
        assert files, f"no corpus files for {self.format_name} in {self.corpus_dirs}"
        return files

    def test_sample_round_trips(self) -> None:
        parsed = self.fmt.parse(self.sample, path="sample")
        assert parsed.entries
        assert self.fmt.render(parsed.entries, source=parsed, target=parsed) == self.sample

    def test_corpus_round_trips_byte_for_byte(self) -> None:
        failures = []
        for path in self.corpus():
            data = path.read_bytes()
            parsed = self.fmt.parse(data, path=str(path))
            if self.fmt.render(dict(parsed.entries), source=parsed, target=parsed) != data:
                failures.append(path.relative_to(CORPUS).as_posix())
        assert failures == []

    def test_corpus_one_changed_value_changes_only_its_lines(self) -> None:
        failures = []
        for path in self.corpus():
            data = path.read_bytes()
            parsed = self.fmt.parse(data, path=str(path))
            key = next(first_string_key(parsed), None)
            if key is None:
                continue
            values = dict(parsed.entries)
            values[key] = "Changed value"
            rendered = self.fmt.render(values, source=parsed, target=parsed)
            reparsed = self.fmt.parse(rendered, path=str(path))
            if reparsed.entries != values:
                failures.append(f"{path.relative_to(CORPUS)}: entries differ after re-parse")
            elif (
                changed_lines(data, rendered) > self.max_changed_lines
                and path.relative_to(CORPUS).as_posix() not in self.layout_exceptions
            ):
                failures.append(f"{path.relative_to(CORPUS)}: {changed_lines(data, rendered)} lines changed")
        assert failures == []

    def test_new_target_from_source_layout_parses_back(self) -> None:
        parsed = self.fmt.parse(self.sample, path="sample")
        values = {k: (f"T:{v}" if isinstance(v, str) else v) for k, v in parsed.entries.items()}
        rendered = self.fmt.render(values, source=parsed, target=None)
        assert self.fmt.parse(rendered, path="new").entries == values

    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
    @given(st.binary(max_size=300))
    def test_any_bytes_parse_or_raise_format_error(self, data: bytes) -> None:
        try:
            self.fmt.parse(data, path="fuzz")
        except FormatError as exc:
            assert exc.path == "fuzz"

    @settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
    @given(st.data())
    def test_mutated_sample_parses_or_raises_format_error(self, data: st.DataObject) -> None:
        sample = bytearray(self.sample)
        for _ in range(data.draw(st.integers(1, 4))):
            index = data.draw(st.integers(0, len(sample) - 1))
            sample[index] = data.draw(st.integers(0, 255))
        with contextlib.suppress(FormatError):
            self.fmt.parse(bytes(sample), path="fuzz")
