"""Drive real ``locsync`` subprocesses against real git repositories and engines.

Everything is observed through the daemon's JSON log lines, the files and git, never
through sleeps: each wait polls a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import free_port, wait_until

WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci1sb2NzeW5jLWUyZS10ZXN0cy0zMmI="
ENGINE_KEY = "lsk_e2e_engine_key"

SOURCE = {
    "home": {"title": "Welcome to {appName}", "subtitle": "Everything in step."},
    "cart": {"items": "You have {count} items", "empty": "Your cart is empty", "checkout": "Checkout"},
    "meta": {"build": "2026.11"},
}


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)
    return out.stdout


class LocsyncProcess:
    """A running ``locsync`` subprocess whose JSON logs go to a file."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str], cwd: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "--log-format", "json", *args],
            stdout=self._log, stderr=self._log, env=env, cwd=cwd,
        )

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if name is None or event.get("event") == name:
                found.append(event)
        return found

    def wait_event(
        self, name: str, where: Callable[[dict[str, Any]], bool] = lambda _e: True, *, timeout: float = 20, count: int = 1
    ) -> dict[str, Any]:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"locsync exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            return len([e for e in self.events(name) if where(e)]) >= count

        wait_until(ready, timeout=timeout)
        return [e for e in self.events(name) if where(e)][count - 1]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code


class Project:
    """A content repository in a temporary folder with a locsync config."""

    def __init__(self, root: Path, *, provider: dict[str, Any] | None = None, server: dict[str, Any] | None = None,
                 extra: str = "") -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "Test User")
        git(root, "config", "user.email", "user@example.com")
        (root / ".gitignore").write_text(".locsync/\n")
        self.write_source(SOURCE)
        config: dict[str, Any] = {
            "sources": [{
                "include": ["locales/[locale].json"], "sourceLocale": "en", "targetLocales": ["de", "fr"],
                "lockedKeys": ["meta/build"],
            }],
            "provider": provider or {"kind": "embedded"},
            "server": server or {"port": 0},
            "git": {"batchSeconds": 0.3},
            "sync": {"debounceMs": 50, "pollingModeSeconds": 0.5},
        }
        self.config_path = root / "locsync.yaml"
        self.config_path.write_text(json.dumps(config, indent=2) + "\n" + extra)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial content")
        self.env = {**os.environ, "LOCSYNC_WEBHOOK_SECRET": WEBHOOK_SECRET, "LINGO_API_KEY": ENGINE_KEY,
                    "LOCSYNC_ENGINE_API_KEY": ENGINE_KEY}

    def write_source(self, data: dict[str, Any], raw: str | None = None) -> None:
        path = self.root / "locales" / "en.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(raw if raw is not None else json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def read(self, locale: str) -> dict[str, Any]:
        return json.loads((self.root / "locales" / f"{locale}.json").read_text(encoding="utf-8"))

    def raw(self, locale: str) -> bytes:
        return (self.root / "locales" / f"{locale}.json").read_bytes()

    def commits(self) -> list[str]:
        return git(self.root, "log", "--format=%H").split()

    def run(self, *args: str) -> LocsyncProcess:
        return LocsyncProcess([*args, "-c", str(self.config_path)], self.root / f"locsync-{time.monotonic_ns()}.log",
                              self.env, self.root)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "daemon", "--log-format", "json", *args, "-c", str(self.config_path)],
            capture_output=True, text=True, env=self.env, cwd=self.root, timeout=timeout,
        )


class EngineProcess:
    """``locsync engine serve`` as its own process, controlled through its test knobs."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.start()

    def start(self) -> None:
        env = {**os.environ, "LOCSYNC_WEBHOOK_SECRET": WEBHOOK_SECRET, "LOCSYNC_ENGINE_API_KEY": ENGINE_KEY}
        self.process = LocsyncProcess(
            ["engine", "serve", "--port", str(self.port), "--db", str(self.folder / "engine.db"),
             "--allow-http-callbacks"],
            self.folder / "engine.log", env, self.folder,
        )
        wait_until(self._up, timeout=20)

    def _up(self) -> bool:
        if self.process.proc.poll() is not None:
            raise AssertionError(self.process.log_path.read_text()[-2000:])
        try:
            return httpx.get(f"{self.url}/_engine/stats", headers={"X-API-Key": ENGINE_KEY}).status_code == 200
        except httpx.TransportError:
            return False

    def knobs(self, **changes: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/_engine/knobs", json=changes, headers={"X-API-Key": ENGINE_KEY})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stats(self) -> dict[str, int]:
        response = httpx.get(f"{self.url}/_engine/stats", headers={"X-API-Key": ENGINE_KEY})
        response.raise_for_status()
        result: dict[str, int] = response.json()
        return result

    def stop(self) -> None:
        self.process.stop()

    def lingo_provider(self) -> dict[str, Any]:
        return {"kind": "lingo", "baseUrl": self.url, "allowHttpCallback": True}
