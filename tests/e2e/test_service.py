"""``locsync run`` as systemd runs it: sd_notify, signals, health, readiness and metrics.

The daemon is a real subprocess; systemd's notify socket is a datagram socket bound here,
so READY, STATUS, WATCHDOG, RELOADING and STOPPING are observed exactly as PID 1 sees them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from daemon.engine.translators.pseudo import pseudo_translate
from tests.e2e.harness import SOURCE, LocsyncProcess, Project, git
from tests.helpers import free_port, wait_until


class NotifySocket:
    """A fake ``$NOTIFY_SOCKET`` (abstract namespace, so no path length limit), read by a thread."""

    def __init__(self) -> None:
        self.name = f"@locsync-test-{secrets.token_hex(8)}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:
                return

    def count(self, prefix: str) -> int:
        return sum(m.startswith(prefix) for m in list(self.messages))

    def wait_for(self, prefix: str, *, timeout: float = 20, count: int = 1) -> None:
        wait_until(lambda: self.count(prefix) >= count, timeout=timeout)

    def close(self) -> None:
        self._closed.set()
        self._reader.join(timeout=5)
        self.sock.close()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text output (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
        if sample.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_notify_health_metrics_and_reload_under_a_fake_systemd(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    notify = NotifySocket()
    project.env.update(NOTIFY_SOCKET=notify.name, WATCHDOG_USEC="200000")
    daemon = project.run("run")
    try:
        notify.wait_for("READY=1")
        url = daemon.events("server_listening")[0]["url"]
        # READY comes only once the server answers and start-up reconciliation is done
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        assert daemon.events("daemon_ready")
        wait_until(lambda: httpx.get(f"{url}/readyz").status_code == 200, timeout=10)
        notify.wait_for("WATCHDOG=1", count=3, timeout=5)  # every WATCHDOG_USEC/2 = 0.1 s
        notify.wait_for("STATUS=watching 1 documents")

        daemon.wait_event("git_committed")
        text = httpx.get(f"{url}/metrics").text
        assert "_created" not in text
        assert metric(text, "locsync_groups_submitted_total") == 1
        assert metric(text, "locsync_webhook_deliveries_total", result="accepted") == 2
        assert metric(text, "locsync_writeback_latency_seconds_count", channel="webhook") == 2
        assert metric(text, "locsync_git_commits_total") == 1
        assert metric(text, "locsync_catchup_runs_total", result="ok") >= 1
        assert metric(text, "locsync_jobs", state="applied", status="completed") == 2
        assert metric(text, "locsync_ready") == 1

        # the counters move as the run goes on: a forged delivery, then an edit
        forged = httpx.post(f"{url}/webhooks/lingo", content=b"{}", headers={"content-type": "application/json"})
        assert forged.status_code == 401
        edited = copy.deepcopy(SOURCE)
        edited["cart"]["checkout"] = "Pay now"
        project.write_source(edited)
        daemon.wait_event("git_committed", count=2)
        text = httpx.get(f"{url}/metrics").text
        assert metric(text, "locsync_groups_submitted_total") == 2
        assert metric(text, "locsync_webhook_deliveries_total", result="accepted") == 4
        assert sum(metric(text, "locsync_webhook_deliveries_total", result="rejected", reason=r)
                   for r in re.findall(r'reason="([^"]+)",result="rejected"', text)) == 1
        assert metric(text, "locsync_writeback_latency_seconds_count", channel="webhook") == 4
        assert metric(text, "locsync_git_commits_total") == 2

        # the embedded engine is found through the state database while the daemon runs
        listed = project.cli("jobs", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 4

        # SIGHUP with a broken config: rejected with the reason, the old config stays
        good = project.config_path.read_text()
        project.config_path.write_text(good.replace('"targetLocales"', '"targetLocale"'))
        daemon.proc.send_signal(signal.SIGHUP)
        rejected = daemon.wait_event("config_reload_rejected")
        assert "targetLocale: unknown key (did you mean 'targetLocales'?)" in rejected["error"]
        notify.wait_for("RELOADING=1")
        notify.wait_for("READY=1", count=2)
        assert httpx.get(f"{url}/healthz").status_code == 200

        # a valid one: a new target locale is synced live; a new port needs a restart
        config = json.loads(good)
        config["sources"][0]["targetLocales"] = ["de", "fr", "ja"]
        config["server"] = {"port": free_port()}
        project.config_path.write_text(json.dumps(config))
        daemon.proc.send_signal(signal.SIGHUP)
        assert daemon.wait_event("config_reload_needs_restart")["sections"] == ["server"]
        assert daemon.wait_event("config_reloaded")["changed"] == ["sources"]
        daemon.wait_event("git_committed", count=3)
        assert project.read("ja")["cart"]["checkout"] == pseudo_translate("Pay now", "ja")
        assert httpx.get(f"{url}/healthz").status_code == 200  # still on the old port
        text = httpx.get(f"{url}/metrics").text
        assert metric(text, "locsync_config_reloads_total", result="rejected") == 1
        assert metric(text, "locsync_config_reloads_total", result="applied") == 1
    finally:
        code = daemon.stop()
    try:
        notify.wait_for("STOPPING=1", timeout=5)
    finally:
        notify.close()
    assert code == 0
    assert daemon.events("daemon_stopped")
    # once stopped, the embedded engine is gone and the CLI says so
    gone = project.cli("jobs", "list")
    assert gone.returncode == 3 and "not running" in gone.stderr


LAUNCHER = """
import json, os, sys, time
import daemon.writeback as writeback

original = writeback.atomic_write
held = []

def held_write(path, data, **kwargs):
    # hold the first write of a translation result until the test has sent SIGTERM
    if not held and "\\u27e6".encode() in data:
        held.append(path)
        print(json.dumps({"event": "test_write_held", "path": str(path)}), file=sys.stderr, flush=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(os.environ["LOCSYNC_TEST_RELEASE"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    original(path, data, **kwargs)

writeback.atomic_write = held_write
from daemon.cli import main
sys.argv[0] = "locsync"
main()
"""


class LaunchedProcess(LocsyncProcess):
    """``locsync`` started through a custom launcher script (for fault injection)."""

    def __init__(self, launcher: Path, args: list[str], log_path: Path, env: dict[str, str], cwd: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, str(launcher), "--log-format", "json", *args],
                                     stdout=self._log, stderr=self._log, env=env, cwd=cwd)


def test_sigterm_during_a_write_leaves_a_complete_file_and_a_commit(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo")
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    release = tmp_path / "release"
    env: dict[str, Any] = {**project.env, "LOCSYNC_TEST_RELEASE": str(release),
                           "PYTHONPATH": os.pathsep.join(sys.path)}
    daemon = LaunchedProcess(launcher, ["run", "-c", str(project.config_path)], tmp_path / "daemon.log", env,
                             project.root)
    try:
        held = daemon.wait_event("test_write_held")
        daemon.proc.send_signal(signal.SIGTERM)  # arrives while the write is in progress
        release.touch()
        code = daemon.proc.wait(timeout=30)
    finally:
        daemon.stop()
    assert code == 0
    path = Path(held["path"])
    locale = path.stem
    written = json.loads(path.read_text(encoding="utf-8"))  # complete: it parses, every key is there
    assert written["cart"]["items"] == pseudo_translate("You have {count} items", locale)
    assert written["home"]["title"] == pseudo_translate("Welcome to {appName}", locale)
    assert git(project.root, "status", "--porcelain", "--", str(path)) == ""  # and committed
    assert f"locales/{locale}.json" in git(project.root, "show", "--name-only", "--format=", "HEAD").split()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temp files left behind"
    names = [e["event"] for e in daemon.events()]
    assert names.index("stop_requested") > names.index("test_write_held")
    assert names.index("git_committed") > names.index("stop_requested")
    assert names[-1] == "daemon_stopped"


def test_repeated_sigterm_while_stopping_still_exits_cleanly(tmp_path: Path) -> None:
    """A supervisor that repeats SIGTERM (or an operator pressing Ctrl-C twice) must not turn a
    clean stop into "killed by signal", however late in the shutdown the repeat arrives."""
    project = Project(tmp_path / "repo")
    proc = project.run("run")
    try:
        proc.wait_event("daemon_ready", timeout=60)
        sent = 0
        while proc.proc.poll() is None:
            proc.proc.send_signal(signal.SIGTERM)
            sent += 1
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.proc.wait(timeout=0.002)
        code = proc.proc.wait(timeout=30)
    finally:
        proc.stop(signal.SIGKILL)
    assert sent >= 2
    assert code == 0
    assert [e["event"] for e in proc.events()][-1] == "daemon_stopped"
