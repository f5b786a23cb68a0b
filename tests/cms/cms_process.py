"""Install, start and stop a test CMS through its ``start.sh``: what Strapi and Wagtail share.

Both ``tests/cms/strapi/start.sh`` and ``tests/cms/wagtail/start.sh`` take ``--install-only``, or
``--port``, ``--state-dir``, ``--info`` (the JSON file written once the CMS answers) and
``--watch-pid``; both exit with dedicated codes when the machine cannot run the CMS at all.
``strapi_fixture`` and ``wagtail_fixture`` call these with their own script, name, timeouts, exit
codes and exception classes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from tests.helpers import free_port


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])


def log_tail(log: Path, lines: int = 40) -> str:
    """The end of a CMS's log file, or why there is none."""
    try:
        return tail(log.read_text(errors="replace"), lines)
    except OSError as exc:
        return f"(no log: {exc})"


def install_only(start: Path, name: str, timeout: float) -> str | None:
    """Run ``start.sh --install-only`` (well under a second when installed); why it failed, or None."""
    try:
        done = subprocess.run(
            ["bash", str(start), "--install-only"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return f"{name} install timed out after {timeout}s:\n{tail(output)}"
    if done.returncode != 0:
        return f"{name} install failed (start.sh exit {done.returncode}):\n{tail(done.stderr)}"
    return None


def stop_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop start.sh (which stops the CMS), then anything left in the process group it leads."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group start_new_session made for start.sh
    if proc.poll() is None:
        proc.wait(timeout=timeout)


@contextlib.contextmanager
def running_start_script(
    start: Path,
    state: Path,
    *,
    name: str,
    port: int | None,
    start_timeout: float,
    stop_timeout: float,
    unavailable_codes: Collection[int],
    unavailable: type[Exception],
    start_failed: type[Exception],
) -> Iterator[dict[str, Any]]:
    """Run ``start`` on ``port`` (a free one by default) with a fresh database under ``state``.

    Yields the info JSON start.sh writes once the CMS answers, and stops the CMS on exit. An exit
    code in ``unavailable_codes`` raises ``unavailable`` (the machine cannot run it: skip); any
    other exit, or no info within ``start_timeout`` seconds, raises ``start_failed``.
    """
    state.mkdir(parents=True, exist_ok=True)
    info = state / "info.json"
    console = state / "start.log"
    started = time.monotonic()
    command = [
        "bash",
        str(start),
        "--port",
        str(port or free_port()),
        "--state-dir",
        str(state / "data"),
        "--info",
        str(info),
        "--watch-pid",  # the CMS stops by itself if this process is killed before it can stop it
        str(os.getpid()),
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
                if code in unavailable_codes:
                    raise unavailable(f"start.sh exit {code}:\n{output}")
                raise start_failed(f"{name} failed to start (start.sh exit {code}):\n{output}")
            if time.monotonic() - started > start_timeout:
                raise start_failed(
                    f"{name} not ready within {start_timeout}s:\n{tail(console.read_text(errors='replace'), 60)}"
                )
            time.sleep(0.1)
        data: dict[str, Any] = json.loads(info.read_text())
        yield data
    finally:
        stop_group(proc, stop_timeout)
