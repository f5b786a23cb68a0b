"""A real Strapi 5 on 127.0.0.1 for the CMS tests (``tests/cms/strapi``, started by its ``start.sh``).

Tests that need it take the session-scoped ``strapi`` fixture (``(base_url, api_token)``) or
``strapi_instance`` (that plus the admin JWT, webhook secret and log); either one marks the test
``strapi``. One Strapi serves the whole session, with a fresh SQLite database in a temporary folder.

Node dependencies: ``.ci/run`` installs them first (``start.sh --install-only``). When they are
missing here and a selected test needs Strapi, they are installed once after collection (outside
the per-test timeout; about 5.5 minutes when cold). When Node or npm is missing, or the install
fails, every Strapi test is skipped with the reason, printed again at the end of the run; a Strapi
that is installed but fails to start is an error, not a skip.

Environment:
  LOCSYNC_SKIP_STRAPI=1          skip the Strapi tests (with that reason)
  LOCSYNC_STRAPI_INSTALL=never   never run npm from pytest; skip when not installed
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cms.strapi_fixture import (
    STRAPI_DIR,
    StrapiEndpoint,
    StrapiInstance,
    StrapiStartFailed,
    StrapiUnavailable,
    ensure_installed,
    is_installed,
    machine_problem,
    running_strapi,
    tail,
)
from tests.e2e.harness import EngineProcess

_problem = pytest.StashKey[str | None]()
STRAPI_FIXTURES = {"strapi", "strapi_instance"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "strapi: runs against a real Strapi 5 (tests/cms/strapi); skipped with the reason when Node or its install is unavailable",
    )


def _banner(config: pytest.Config, text: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(text, yellow=True, bold=True)


def _check(config: pytest.Config) -> str | None:
    """Machine check and install, once per session; the reason Strapi cannot run, or None."""
    if _problem not in config.stash:
        problem = machine_problem()
        if problem is None:
            cold = not is_installed()
            if cold:
                _banner(config, f"strapi: installing Node dependencies for {STRAPI_DIR} (npm ci, ~5.5 min when cold)")
            started = time.monotonic()
            problem = ensure_installed()
            if cold and problem is None:
                _banner(config, f"strapi: installed in {time.monotonic() - started:.0f} s")
        config.stash[_problem] = problem
        if problem is not None:
            _banner(config, f"SKIPPING the Strapi tests: {tail(problem, 5)}")
    return config.stash[_problem]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes a Strapi fixture is a ``strapi`` test, marked or not."""
    for item in items:
        uses_strapi = STRAPI_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses_strapi and not item.get_closest_marker("strapi"):
            item.add_marker(pytest.mark.strapi)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Install before any test runs, so a cold install does not count against a test's timeout."""
    if any(item.get_closest_marker("strapi") for item in session.items):
        _check(session.config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Repeat the reason at the very end, where nobody can miss it."""
    problem = config.stash.get(_problem, None)
    if problem is not None:
        terminalreporter.write_sep("=", "Strapi tests SKIPPED", yellow=True, bold=True)
        terminalreporter.write_line(problem, yellow=True)


@pytest.fixture(scope="session")
def strapi_instance(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StrapiInstance]:
    """Strapi 5 on a free port with a fresh database, for the whole session."""
    problem = _check(request.config)
    if problem is not None:
        pytest.skip(f"Strapi unavailable: {problem}")
    with contextlib.ExitStack() as stack:
        try:
            instance = stack.enter_context(running_strapi(tmp_path_factory.mktemp("strapi")))
        except StrapiUnavailable as exc:
            request.config.stash[_problem] = str(exc)
            pytest.skip(f"Strapi unavailable: {exc}")
        except StrapiStartFailed as exc:
            pytest.fail(str(exc), pytrace=False)
        yield instance


@pytest.fixture(scope="session")
def strapi(strapi_instance: StrapiInstance) -> StrapiEndpoint:
    """``(base_url, api_token)`` of the session's Strapi: what the daemon is configured with."""
    return strapi_instance.endpoint


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineProcess]:
    """The reference engine as its own process (its counters prove the job groups), for the daemon tests."""
    process = EngineProcess(tmp_path / "engine")
    yield process
    process.stop()
