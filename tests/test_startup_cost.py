"""What a command pays before it does any work: the modules it imports.

Heavy libraries are imported where they are used, so ``--help``, ``--version`` and a
``sync --once`` with nothing to send stay cheap (README, Performance). Checked in a fresh
interpreter: this test process has imported everything already.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.errors import ProviderUnavailable
from daemon.providers.lingo import LingoProvider
from daemon.secrets import Secret
from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[1]


def loaded_after(statement: str, modules: list[str]) -> list[str]:
    """Which of ``modules`` a fresh interpreter holds after running ``statement``."""
    code = f"import json, sys\n{statement}\nprint(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    found: list[str] = json.loads(done.stdout)
    return found


def test_the_cli_module_imports_no_heavy_library() -> None:
    heavy = ["pydantic", "yaml", "sqlite_utils", "prometheus_client", "babel", "ruamel.yaml", "markdown_it",
             "uvicorn", "starlette", "httpx", "websockets", "watchfiles", "daemon.config", "daemon.runtime",
             "daemon.engine"]
    assert loaded_after("import daemon.cli", heavy) == []


def test_the_runtime_leaves_server_engine_watcher_and_plurals_to_the_paths_that_use_them() -> None:
    deferred = ["uvicorn", "daemon.httpserver", "daemon.engine", "daemon.engine.app", "daemon.webhooks.app",
                "websockets", "watchfiles", "babel"]
    assert loaded_after("import daemon.runtime", deferred) == []


def test_the_provider_builds_its_http_client_on_the_first_request() -> None:
    async def scenario() -> None:
        unused = LingoProvider(f"http://127.0.0.1:{free_port()}", Secret("lsk_test"))
        await unused.aclose()  # a run that never reached the provider closes nothing
        assert unused._http is None

        provider = LingoProvider(f"http://127.0.0.1:{free_port()}", Secret("lsk_test"))
        with pytest.raises(ProviderUnavailable):
            await provider.check()  # nobody listens: the client exists now and reports it
        assert provider._http is not None
        await provider.aclose()
        assert provider._http is None

    asyncio.run(scenario())


def test_a_server_without_the_embedded_engine_loads_no_websocket_protocol() -> None:
    """Only the engine serves a WebSocket; a daemon talking to a remote provider does not pay for one."""
    statement = """
import asyncio, socket
import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from daemon.serving import HttpSide

async def scenario():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d/" % sock.getsockname()[1]
    app = lambda: Starlette(routes=[Route("/", lambda request: PlainTextResponse("up"))])
    side = HttpSide(sock, app)
    await side.start()
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).text == "up"
    await side.stop()

asyncio.run(scenario())
"""
    assert loaded_after(statement, ["websockets", "uvicorn.protocols.websockets.websockets_sansio_impl"]) == []
