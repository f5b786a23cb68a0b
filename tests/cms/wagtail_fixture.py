"""Start and stop the test Wagtail 8 (``tests/cms/wagtail/start.sh``) from Python, without pytest.

``tests/cms/wagtail/conftest.py`` turns this into the session fixture ``wagtail``; a script can use
:func:`running_wagtail` directly::

    problem = machine_problem() or ensure_installed()
    with running_wagtail(Path(tmp)) as wagtail:
        url, token = wagtail.url, wagtail.token

:class:`WagtailUnavailable` means "this machine cannot run Wagtail" (no Python 3.10+, the pip
install failed): callers skip, loudly. :class:`WagtailStartFailed` means it is installed but does
not come up: callers fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port

WAGTAIL_DIR = Path(__file__).resolve().parent / "wagtail"
START = WAGTAIL_DIR / "start.sh"
INSTALL_TIMEOUT = 600  # seconds; ~30 s cold on 2 cores
START_TIMEOUT = 90  # seconds; ~11 s (migrate ~8 s, then ~1 s to answer)
STOP_TIMEOUT = 20

# start.sh's exit codes that mean "this machine cannot run Wagtail" rather than "broken"
EXIT_NO_PYTHON = 3
EXIT_INSTALL_FAILED = 4


class WagtailUnavailable(Exception):
    """Python missing or the install failed: skip, loudly."""


class WagtailStartFailed(Exception):
    """Installed, but did not come up: a real failure."""


@dataclass(frozen=True)
class WagtailInstance:
    """A running Wagtail: what the daemon is configured with, and what the tests need besides."""

    url: str
    token: str  # API v3 token of the superuser ``admin``
    password: str
    locales: tuple[str, ...]  # the default locale first
    parent_id: int  # an English page that test articles can go under
    pid: int
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return tail(self.log.read_text(errors="replace"), lines)
        except OSError as exc:
            return f"(no log: {exc})"


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def machine_problem() -> str | None:
    """Why Wagtail cannot run here at all, before trying anything (None when it may)."""
    if os.environ.get("LOCSYNC_SKIP_WAGTAIL"):
        return "LOCSYNC_SKIP_WAGTAIL is set"
    missing = [tool for tool in ("python3", "bash") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found on PATH (the Wagtail tests need Python 3.10+ and bash)"
    return None


def ensure_installed() -> str | None:
    """Run ``start.sh --install-only`` (well under a second when installed); why it failed, or None."""
    try:
        done = subprocess.run(
            ["bash", str(START), "--install-only"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return f"Wagtail install timed out after {INSTALL_TIMEOUT}s:\n{tail(output)}"
    if done.returncode != 0:
        return f"Wagtail install failed (start.sh exit {done.returncode}):\n{tail(done.stderr)}"
    return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop start.sh (which stops Wagtail), then anything left in the process group it leads."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group start_new_session made for start.sh
    if proc.poll() is None:
        proc.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def running_wagtail(state: Path, *, port: int | None = None) -> Iterator[WagtailInstance]:
    """Start Wagtail on ``port`` (a free one by default) with a fresh database under ``state``."""
    state.mkdir(parents=True, exist_ok=True)
    info = state / "info.json"
    console = state / "start.log"
    started = time.monotonic()
    command = [
        "bash", str(START), "--port", str(port or free_port()), "--state-dir", str(state / "data"),
        "--info", str(info),
        "--watch-pid", str(os.getpid()),  # Wagtail stops by itself if this process dies first
    ]
    with console.open("wb") as out:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while not info.exists():
            code = proc.poll()
            if code is not None:
                output = tail(console.read_text(errors="replace"), 60)
                if code in (EXIT_NO_PYTHON, EXIT_INSTALL_FAILED):
                    raise WagtailUnavailable(f"start.sh exit {code}:\n{output}")
                raise WagtailStartFailed(f"Wagtail failed to start (start.sh exit {code}):\n{output}")
            if time.monotonic() - started > START_TIMEOUT:
                raise WagtailStartFailed(
                    f"Wagtail not ready within {START_TIMEOUT}s:\n{tail(console.read_text(errors='replace'), 60)}"
                )
            time.sleep(0.1)
        data: dict[str, Any] = json.loads(info.read_text())
        yield WagtailInstance(
            url=data["url"], token=data["token"], password=data["password"], locales=tuple(data["locales"]),
            parent_id=int(data["parentId"]), pid=int(data["pid"]), log=Path(data["log"]),
        )
    finally:
        _stop(proc)


# --- pytest ------------------------------------------------------------------------------------
# One Wagtail per test process, shared by every module that imports ``wagtail_session`` (a
# session fixture imported into two modules would otherwise start two).

_running: dict[str, Any] = {}


class _SkipBanner:
    """A plugin registered on skip: repeats the reason at the very end, where nobody can miss it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("=", "Wagtail tests SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(self.reason, yellow=True)


def _skip(config: pytest.Config, reason: str) -> None:
    if "skip" not in _running:
        _running["skip"] = reason
        config.pluginmanager.register(_SkipBanner(reason), "locsync-wagtail-skip-banner")
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"SKIPPING the Wagtail tests: {tail(reason, 5)}", yellow=True, bold=True)
    pytest.skip(f"Wagtail unavailable: {_running['skip']}")


@pytest.fixture(scope="session", name="wagtail")
def wagtail_session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WagtailInstance:
    """Wagtail 8 on a free port with a fresh database, once per test process."""
    if "instance" in _running:
        instance: WagtailInstance = _running["instance"]
        return instance
    if "skip" in _running:
        _skip(request.config, _running["skip"])
    problem = machine_problem() or ensure_installed()
    if problem is not None:
        _skip(request.config, problem)
    stack = contextlib.ExitStack()
    try:
        instance = stack.enter_context(running_wagtail(tmp_path_factory.mktemp("wagtail")))
    except WagtailUnavailable as exc:
        _skip(request.config, str(exc))
    except WagtailStartFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    request.config.add_cleanup(stack.close)
    _running["instance"] = instance
    return instance
