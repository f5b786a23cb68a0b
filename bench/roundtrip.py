"""Round-trip every corpus file through its format and measure parse+write throughput.

``python bench/roundtrip.py [--corpus DIR] [--repeat N]``. For each format it prints the
files that round-trip byte-identically over the files in the corpus, and parse+render
throughput in MB/s next to a plain ``json.loads`` + ``json.dumps`` pass over the JSON corpus
measured in the same run (the ratio is what to compare between machines).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.errors import FormatError
from daemon.formats import get_format

CORPUS_FORMATS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "json": (("json-flat", "json-nested"), (".json",)),
    "i18next": (("json-flat", "json-nested"), (".json",)),
    "yaml-rails": (("yaml-rails",), (".yml", ".yaml")),
    "yaml": (("other-hugo-yaml",), (".yml", ".yaml")),
    "po": (("gettext-po",), (".po", ".pot")),
    "xliff": (("xliff",), (".xlf", ".xliff")),
    "android": (("android-xml",), (".xml",)),
    "apple-strings": (("apple-strings",), (".strings",)),
    "xcstrings": (("apple-xcstrings",), (".xcstrings",)),
    "arb": (("flutter-arb",), (".arb",)),
    "properties": (("java-properties",), (".properties",)),
    "markdown": (("markdown",), (".md", ".mdx")),
}


def files_for(corpus: Path, dirs: tuple[str, ...], suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for d in dirs if (corpus / d).is_dir() for p in (corpus / d).rglob("*")
                  if p.is_file() and p.name.endswith(suffixes))


def json_baseline(files: list[Path], repeat: int) -> float:
    data = [p.read_bytes() for p in files]
    size = sum(len(d) for d in data)
    started = time.perf_counter()
    for _ in range(repeat):
        for blob in data:
            json.dumps(json.loads(blob), ensure_ascii=False, indent=2).encode()
    return size * repeat / (time.perf_counter() - started) / 1e6


def measure(name: str, files: list[Path], repeat: int) -> tuple[int, int, float, list[str]]:
    fmt = get_format(name)
    identical = 0
    failures: list[str] = []
    blobs = [(p, p.read_bytes()) for p in files]
    for path, blob in blobs:
        try:
            parsed = fmt.parse(blob, path=str(path))
            if fmt.render(dict(parsed.entries), source=parsed, target=parsed) == blob:
                identical += 1
            else:
                failures.append(f"{path.name}: differs")
        except FormatError as exc:
            failures.append(f"{path.name}: {exc}")
    size = sum(len(b) for _, b in blobs)
    started = time.perf_counter()
    for _ in range(repeat):
        for path, blob in blobs:
            try:
                parsed = fmt.parse(blob, path=str(path))
                values = dict(parsed.entries)
                fmt.render(values, source=parsed, target=None)
            except (FormatError, ValueError):
                pass
    throughput = size * repeat / (time.perf_counter() - started) / 1e6
    return identical, len(files), throughput, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}; pass --corpus")
        return 2
    json_files = files_for(args.corpus, ("json-flat", "json-nested"), (".json",))
    baseline = json_baseline(json_files, args.repeat)
    print(f"baseline json.loads+json.dumps: {baseline:.1f} MB/s over {len(json_files)} files")
    print(f"{'format':<14} {'identical':>10} {'MB/s':>8} {'vs json':>8}")
    all_ok = True
    for name, (dirs, suffixes) in CORPUS_FORMATS.items():
        files = files_for(args.corpus, dirs, suffixes)
        try:
            identical, total, throughput, failures = measure(name, files, args.repeat)
        except (ImportError, AttributeError) as exc:
            print(f"{name:<14} {'n/a':>10}  (format not available: {exc})")
            continue
        all_ok = all_ok and identical == total
        print(f"{name:<14} {identical:>4}/{total:<5} {throughput:>8.1f} {throughput / baseline:>7.2f}x")
        for failure in failures[:3]:
            print(f"    {failure}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
