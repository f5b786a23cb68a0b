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
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cms.cms_process import install_only, log_tail, running_start_script, tail

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
        return log_tail(self.log, lines)


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
    return install_only(START, "Wagtail", INSTALL_TIMEOUT)


@contextlib.contextmanager
def running_wagtail(state: Path, *, port: int | None = None) -> Iterator[WagtailInstance]:
    """Start Wagtail on ``port`` (a free one by default) with a fresh database under ``state``."""
    with running_start_script(
        START, state, name="Wagtail", port=port, start_timeout=START_TIMEOUT, stop_timeout=STOP_TIMEOUT,
        unavailable_codes=(EXIT_NO_PYTHON, EXIT_INSTALL_FAILED),
        unavailable=WagtailUnavailable, start_failed=WagtailStartFailed,
    ) as data:
        yield WagtailInstance(
            url=data["url"], token=data["token"], password=data["password"], locales=tuple(data["locales"]),
            parent_id=int(data["parentId"]), pid=int(data["pid"]), log=Path(data["log"]),
        )


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
