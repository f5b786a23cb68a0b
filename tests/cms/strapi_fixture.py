"""Start and stop the test Strapi 5 (``tests/cms/strapi/start.sh``) from Python, without pytest.

``conftest.py`` turns this into the ``strapi`` / ``strapi_instance`` fixtures; a script or a later
end-to-end harness can use :func:`running_strapi` directly::

    problem = machine_problem() or ensure_installed()
    with running_strapi(Path(tmp)) as strapi:
        url, token = strapi.endpoint

:class:`StrapiUnavailable` means "this machine cannot run Strapi" (no Node, install failed): callers
skip. :class:`StrapiStartFailed` means Strapi is installed but broken: callers fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tests.cms.cms_process import install_only, log_tail, running_start_script
from tests.cms.cms_process import tail as tail  # re-exported: conftest.py and scripts use it from here

STRAPI_DIR = Path(__file__).resolve().parent / "strapi"
START = STRAPI_DIR / "start.sh"
INSTALL_TIMEOUT = 1200  # seconds; a cold install takes ~5.5 min on 2 cores
START_TIMEOUT = 90  # seconds; 7-20 s when installed
STOP_TIMEOUT = 20

# start.sh's exit codes that mean "this machine cannot run Strapi" rather than "broken"
EXIT_NO_NODE = 3
EXIT_INSTALL_FAILED = 4


class StrapiUnavailable(Exception):
    """Node/npm missing or the install failed: skip, loudly."""


class StrapiStartFailed(Exception):
    """Installed, but did not come up: a real failure."""


class StrapiEndpoint(NamedTuple):
    """What the daemon gets: the base URL and a full-access API token."""

    url: str
    api_token: str


@dataclass(frozen=True)
class StrapiInstance:
    """A running Strapi with everything the tests may need besides the daemon's view."""

    url: str
    api_token: str
    api_token_id: int
    admin_jwt: str  # the first admin's JWT: admin API (content-manager, webhooks, tokens)
    admin_id: int
    webhook_secret: str  # sent as X-Hook-Secret with every webhook
    locales: tuple[str, ...]  # the default locale first
    pid: int
    log: Path

    @property
    def endpoint(self) -> StrapiEndpoint:
        return StrapiEndpoint(self.url, self.api_token)

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log, lines)


def machine_problem() -> str | None:
    """Why Strapi cannot run here at all, before trying anything (None when it may)."""
    if os.environ.get("LOCSYNC_SKIP_STRAPI"):
        return "LOCSYNC_SKIP_STRAPI is set"
    missing = [tool for tool in ("node", "npm", "bash") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found on PATH (Strapi 5 needs Node.js 20+ and npm)"
    return None


def is_installed() -> bool:
    """Cheap check: start.sh has stamped an install (it re-checks the stamp against the lock file)."""
    return (STRAPI_DIR / "node_modules" / ".locsync-install-stamp").exists()


def ensure_installed() -> str | None:
    """Run ``start.sh --install-only`` (well under a second when installed); why it failed, or None."""
    if not is_installed() and os.environ.get("LOCSYNC_STRAPI_INSTALL") == "never":
        return f"Strapi's Node dependencies are not installed in {STRAPI_DIR} and LOCSYNC_STRAPI_INSTALL=never"
    return install_only(START, "Strapi", INSTALL_TIMEOUT)


@contextlib.contextmanager
def running_strapi(state: Path, *, port: int | None = None) -> Iterator[StrapiInstance]:
    """Start Strapi on ``port`` (a free one by default) with a fresh database under ``state``."""
    with running_start_script(
        START,
        state,
        name="Strapi",
        port=port,
        start_timeout=START_TIMEOUT,
        stop_timeout=STOP_TIMEOUT,
        unavailable_codes=(EXIT_NO_NODE, EXIT_INSTALL_FAILED),
        unavailable=StrapiUnavailable,
        start_failed=StrapiStartFailed,
    ) as data:
        yield StrapiInstance(
            url=data["url"],
            api_token=data["apiToken"],
            api_token_id=int(data["apiTokenId"]),
            admin_jwt=data["adminJwt"],
            admin_id=int(data["adminId"]),
            webhook_secret=data["webhookSecret"],
            locales=tuple(loc["code"] for loc in data["locales"]),
            pid=int(data["pid"]),
            log=Path(data["log"]),
        )
