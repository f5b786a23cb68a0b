"""Shared pieces of the performance benchmarks (``bench/scale.py``, ``latency.py``, ``ingest.py``, ``idle.py``).

Projects are generated from a seed (random sentences, ~20% with a ``{count}`` placeholder, two
levels of nesting), live in a git repository, and are synced by real ``locsync`` subprocesses.
Per-process figures come from the kernel: ``os.wait4`` for the peak RSS and CPU time of a
process that exited, ``/proc/<pid>/stat`` and ``status`` for one that is still running.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.e2e.harness import ENGINE_KEY, WEBHOOK_SECRET, git

__all__ = ["ENGINE_KEY", "WEBHOOK_SECRET", "git"]

REPO = Path(__file__).resolve().parents[1]

LOCALES = ("de", "fr")
WORDS = (
    "account", "settings", "save", "changes", "your", "order", "has", "been", "shipped", "please", "try",
    "again", "later", "the", "file", "could", "not", "be", "uploaded", "welcome", "back", "we", "sent", "you",
    "an", "email", "new", "message", "from", "team", "invite", "members", "to", "this", "project", "payment",
    "failed", "update", "billing", "details", "download", "report", "share", "link", "copied", "clipboard",
    "remaining", "items", "in", "cart", "checkout", "continue", "shopping", "privacy", "policy", "terms", "of",
    "service", "sign", "out", "delete", "forever", "cannot", "undo",
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- content -----------------------------------------------------------------------------

def sentence(rng: random.Random) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))).capitalize()
    if rng.random() < 0.2:
        words = text.split()
        words.insert(rng.randrange(len(words) + 1), "{count}")
        text = " ".join(words)
    return text + rng.choice((".", "", "!", "?"))


def document(rng: random.Random, keys: int) -> dict[str, Any]:
    """``keys`` leaves two levels deep: ``{section: {group: {leaf: sentence}}}``, 5 leaves per group."""
    data: dict[str, Any] = {}
    for i in range(keys):
        section = f"{WORDS[(i // 25) % len(WORDS)]}_{i // 25}"
        group = f"{WORDS[(i // 5) % len(WORDS)]}_{(i // 5) % 5}"
        data.setdefault(section, {}).setdefault(group, {})[f"{WORDS[i % len(WORDS)]}_{i % 5}"] = sentence(rng)
    return data


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def leaf_paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for key, value in data.items():
        paths.extend(leaf_paths(value, (*prefix, key)) if isinstance(value, dict) else [(*prefix, key)])
    return paths


def set_leaf(data: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@dataclass
class Project:
    """A generated content repository: ``locales/[locale]/<subdir>/pNNNNN.json``, one source per file."""

    root: Path
    sources: list[Path]
    config_path: Path

    def env(self, **extra: str) -> dict[str, str]:
        return child_env(LOCSYNC_WEBHOOK_SECRET=WEBHOOK_SECRET, LINGO_API_KEY=ENGINE_KEY, **extra)

    def files(self) -> list[Path]:
        """Every content file locsync reads (sources and the targets that exist)."""
        return sorted((self.root / "locales").rglob("*.json"))

    def edit(self, index: int, rng: random.Random) -> tuple[Path, tuple[str, ...]]:
        """Change one key of source file ``index`` (chosen by ``rng``); return the file and the key."""
        path = self.sources[index % len(self.sources)]
        data = json.loads(path.read_text(encoding="utf-8"))
        key = rng.choice(leaf_paths(data))
        set_leaf(data, key, sentence(rng) + f" (edit {rng.randrange(10**9)})")
        path.write_text(dump(data), encoding="utf-8")
        return path, key


def make_project(
    root: Path, *, files: int, keys: int, seed: int = 0, per_dir: int = 100, targets: bool = False,
    config: dict[str, Any] | None = None,
) -> Project:
    """Generate, configure and commit a project. ``targets=True`` also writes de/fr files holding a
    pseudo translation, which locsync adopts without sending anything (a project already in sync)."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench User")
    git(root, "config", "user.email", "bench@example.com")
    (root / ".gitignore").write_text(".locsync/\n*.log\n*.http.json\n")
    sources = []
    for n in range(files):
        rel = Path(f"d{n // per_dir:03d}") / f"p{n:05d}.json" if files > per_dir else Path(f"p{n:05d}.json")
        data = document(rng, keys)
        for locale in ("en", *(LOCALES if targets else ())):
            path = root / "locales" / locale / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump(data if locale == "en" else _prefixed(data, locale)), encoding="utf-8")
        sources.append(root / "locales" / "en" / rel)
    include = "locales/[locale]/**/*.json" if files > per_dir else "locales/[locale]/*.json"
    full: dict[str, Any] = {
        "sources": [{"include": [include], "sourceLocale": "en", "targetLocales": list(LOCALES)}],
        "provider": {"kind": "embedded"},
        "server": {"port": 0},
        "git": {"batchSeconds": 0.2},
        "sync": {"debounceMs": 50},
    }
    for section, values in (config or {}).items():
        full[section] = {**full.get(section, {}), **values} if isinstance(values, dict) else values
    config_path = root / "locsync.yaml"
    config_path.write_text(json.dumps(full, indent=2) + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "content")
    return Project(root, sources, config_path)


def _prefixed(data: dict[str, Any], locale: str) -> dict[str, Any]:
    return {k: _prefixed(v, locale) if isinstance(v, dict) else f"[{locale}] {v}" for k, v in data.items()}


# --- processes ---------------------------------------------------------------------------

PYCACHE = Path(tempfile.gettempdir()) / "locsync-bench-pycache"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of measured processes: bytecode caching on, as in a normal install.

    A shell with ``PYTHONDONTWRITEBYTECODE=1`` and an editable install would recompile every
    ``daemon`` module at each start (~0.3 s here); the cache goes to a folder in /tmp
    (``PYTHONPYCACHEPREFIX``), never into the source tree.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(PYCACHE), **extra}


def warm_up() -> None:
    """Fill the bytecode cache for every module a measured run imports."""
    env = child_env()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "daemon"], check=True, env=env, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    imports = "import daemon.cli, daemon.runtime, daemon.engine.app, daemon.engine.translators.pseudo, httpx, uvicorn"
    subprocess.run([sys.executable, "-c", imports], check=True, env=env, cwd=REPO)


def locsync_argv(*args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "daemon", "--log-format", "json", *args]


# Counts the HTTP requests made in the locsync process (provider calls, with the embedded
# engine's ``/engine`` prefix removed, and that engine's webhook deliveries to locsync) by
# wrapping httpx.AsyncClient.send, then runs the CLI unchanged.
_COUNTING = """
import atexit, collections, json, os, re, sys
sys.argv[0] = "locsync"
from daemon import fastpath
if fastpath.unchanged(sys.argv[1:]) is not None:  # the no-op answer makes no request: count none
    open(os.environ["BENCH_HTTP_COUNTS"], "w").write("{}")
    fastpath.main()
import httpx
counts = collections.Counter()
send = httpx.AsyncClient.send
async def counted(self, request, *args, **kwargs):
    path = re.sub(r"/lj[bg]_[A-Za-z0-9]+", "/{id}", request.url.path.removeprefix("/engine"))
    counts[request.method + " " + path] += 1
    return await send(self, request, *args, **kwargs)
httpx.AsyncClient.send = counted
atexit.register(lambda: open(os.environ["BENCH_HTTP_COUNTS"], "w").write(json.dumps(counts)))
sys.argv[0] = "locsync"
from daemon.cli import main
main()
"""


@dataclass
class Finished:
    """A ``locsync`` process that ran to completion."""

    code: int
    wall: float
    cpu: float
    maxrss_mb: float
    log: Path
    http: Counter[str] = field(default_factory=Counter)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return read_events(self.log, name)


def run_to_completion(argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, count_http: bool = False,
                      timeout: float = 600) -> Finished:
    """Run ``argv`` (a ``locsync_argv``) with its output in ``log``; wall, CPU and peak RSS from ``wait4``."""
    counts_file = log.with_suffix(".http.json")
    if count_http:
        argv = [argv[0], "-c", _COUNTING, *argv[3:]]
        env = {**env, "BENCH_HTTP_COUNTS": str(counts_file)}
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    http: Counter[str] = Counter(json.loads(counts_file.read_text())) if count_http and counts_file.exists() else Counter()
    return Finished(proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, log, http)


def read_events(log: Path, name: str | None = None) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if name is None or event.get("event") == name:
                found.append(event)
    return found


def event_time(event: dict[str, Any]) -> float:
    """The Unix time of a log event (structlog's ISO timestamp, microseconds, UTC)."""
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def proc_cpu_seconds(pid: int, tid: str | None = None) -> float:
    """utime + stime of a running process (or one of its threads), from ``/proc/<pid>/stat``."""
    stat = Path(f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a running process in MB, from ``/proc/<pid>/status``."""
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M))
    return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024


def timed(argv: list[str], repeat: int = 3, **kwargs: Any) -> float:
    """Median wall time of a short command (a baseline)."""
    times = []
    kwargs.setdefault("env", child_env())
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kwargs)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
