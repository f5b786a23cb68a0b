"""Crash-anywhere harness: edit sources, SIGKILL ``locsync run`` at random points, restart, check.

Used by ``tests/e2e/test_chaos.py`` (a short run in CI) and ``bench/chaos.py`` (a long one).
The reference engine runs as its own process, so it keeps translating and retrying its
webhook deliveries while the daemon is dead, exactly like a real provider.

Kill points are drawn at random: right after a chosen daemon event (a group submitted, a
webhook received, a result applied, a commit made) or after a random delay. After the last
kill one daemon runs to quiescence and the outcome is measured:

- lost: target keys that do not hold the engine's translation of the latest source text;
- duplicated: (document, version) pairs that got more than one job group at the engine,
  plus idempotency-key conflicts the engine counted;
- corrupt: target files that do not parse, plus a state database failing its integrity check.
"""

from __future__ import annotations

import json
import random
import re
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import EngineProcess, Project, git
from tests.helpers import free_port, wait_until

KILL_AFTER_EVENTS = ("job_group_submitted", "webhook_received", "result_applied", "target_written", "git_committed")
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike"]
LOCALES = ("de", "fr")


@dataclass
class ChaosReport:
    kills: int = 0
    edits: int = 0
    lost: int = 0
    duplicated: int = 0
    corrupt: int = 0
    mixed_commits: int = 0
    kill_points: dict[str, int] = field(default_factory=dict)
    converge_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"kills={self.kills} edits={self.edits} lost={self.lost} duplicated={self.duplicated} "
                f"corrupt={self.corrupt} mixed_commits={self.mixed_commits} converge_s={self.converge_seconds:.1f}")


def _sentence(rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
    return words + (" {count}" if rng.random() < 0.3 else "")


class Chaos:
    def __init__(self, folder: Path, *, seed: int = 0, keys: int = 12) -> None:
        self.rng = random.Random(seed)
        self.engine = EngineProcess(folder / "engine")
        self.engine.knobs(latency_seconds=0.05, reorder_jitter_seconds=0.2, duplicate_rate=0.2,
                          delivery_retry_delays=[0.2, 0.3, 0.5, 1, 1, 2, 2, 5, 5, 10, 10, 30, 30, 60])
        port = free_port()
        self.project = Project(folder / "repo", provider=self.engine.lingo_provider(),
                               server={"port": port, "publicUrl": f"http://127.0.0.1:{port}"})
        self.source: dict[str, Any] = {f"group{i % 3}": {} for i in range(3)}
        for i in range(keys):
            self.source[f"group{i % 3}"][f"key{i}"] = _sentence(self.rng)
        self.project.write_source(self.source)
        git(self.project.root, "commit", "-qam", "chaos source")
        self.report = ChaosReport()

    def edit(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            group = self.rng.choice(sorted(self.source))
            key = self.rng.choice(sorted(self.source[group]))
            self.source[group][key] = _sentence(self.rng)
        self.project.write_source(self.source)
        self.report.edits += 1
        if self.rng.random() < 0.3:  # the user commits their source edit now and then
            subprocess.run(["git", "-C", str(self.project.root), "commit", "-qm", "edit source", "--",
                            "locales/en.json"], capture_output=True)

    def one_cycle(self) -> None:
        daemon = self.project.run("run")
        try:
            daemon.wait_event("daemon_ready", timeout=30)
            if self.rng.random() < 0.7:
                self.edit()
            trigger = self.rng.choice((*KILL_AFTER_EVENTS, "delay"))
            if trigger == "delay":
                deadline = time.monotonic() + self.rng.uniform(0.0, 1.0)
                while time.monotonic() < deadline and daemon.proc.poll() is None:
                    time.sleep(0.005)
            else:
                seen = len(daemon.events(trigger))
                deadline = time.monotonic() + 1.5
                while time.monotonic() < deadline and daemon.proc.poll() is None:
                    if len(daemon.events(trigger)) > seen:
                        break
                    time.sleep(0.002)
            self.report.kill_points[trigger] = self.report.kill_points.get(trigger, 0) + 1
        finally:
            daemon.stop(signal.SIGKILL)
        self.report.kills += 1
        if self.rng.random() < 0.3:
            self.edit()  # edits while the daemon is down

    def expected(self) -> dict[str, dict[str, Any]]:
        return {
            locale: {g: {k: pseudo_translate(v, locale) for k, v in keys.items()} for g, keys in self.source.items()}
            for locale in LOCALES
        }

    def converge(self, timeout: float = 90) -> None:
        started = time.monotonic()
        daemon = self.project.run("run")
        expected = self.expected()

        def settled() -> bool:
            for locale in LOCALES:
                try:
                    if self.project.read(locale) != expected[locale]:
                        return False
                except (OSError, ValueError):
                    return False
            status = git(self.project.root, "status", "--porcelain", "--", "locales/de.json", "locales/fr.json")
            return status.strip() == ""

        try:
            wait_until(settled, timeout=timeout, interval=0.1)
            self.report.converge_seconds = time.monotonic() - started
        except AssertionError:
            self.report.problems.append("did not converge")
        finally:
            daemon.stop(signal.SIGTERM)

    def measure(self) -> ChaosReport:
        report = self.report
        expected = self.expected()
        for locale in LOCALES:
            try:
                actual = self.project.read(locale)
            except ValueError:
                report.corrupt += 1
                continue
            for group, keys in expected[locale].items():
                for key, value in keys.items():
                    if actual.get(group, {}).get(key) != value:
                        report.lost += 1
        state = self.project.root / ".locsync/state.db"
        with sqlite3.connect(state) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                report.corrupt += 1
        with sqlite3.connect(self.engine.folder / "engine.db") as conn:
            keys = [row[0] for row in conn.execute("SELECT idempotency_key FROM groups")]
        versions: dict[str, int] = {}
        for key in keys:
            match = re.search(r"-v(\d+)-", key or "")
            if match:
                versions[match.group(1)] = versions.get(match.group(1), 0) + 1
        report.duplicated += sum(n - 1 for n in versions.values() if n > 1)
        report.duplicated += self.engine.stats()["idempotency_conflicts"]
        ours = {"locales/de.json", "locales/fr.json"}
        log = git(self.project.root, "log", "--format=@%an", "--name-only")
        for chunk in log.split("@")[1:]:
            author, *files = [line for line in chunk.splitlines() if line.strip()]
            if (author == "locsync" and not set(files) <= ours) or (author != "locsync" and set(files) & ours):
                report.mixed_commits += 1
        return report

    def close(self) -> None:
        self.engine.stop()


def run_chaos(folder: Path, *, kills: int, seed: int = 0) -> ChaosReport:
    chaos = Chaos(folder, seed=seed)
    try:
        for _ in range(kills):
            chaos.one_cycle()
        chaos.converge()
        return chaos.measure()
    finally:
        chaos.close()


def report_json(report: ChaosReport) -> str:
    return json.dumps(report.__dict__, sort_keys=True)
