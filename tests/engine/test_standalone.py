"""``daemon.engine.serve``: the engine as its own process, stopped by SIGINT like a user would."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from daemon.engine import EngineSettings
from tests.engine.conftest import new_secret
from tests.helpers import free_port, wait_until


def test_serve_runs_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    script = textwrap.dedent(
        f"""
        import asyncio
        from daemon.engine import EngineSettings, serve
        settings = EngineSettings(db_path={str(tmp_path / "e.db")!r}, webhook_secret={new_secret()!r})
        asyncio.run(serve(settings, "127.0.0.1", {port}))
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/jobs/localization", headers={"X-API-Key": "k"}).is_success
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=15)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output.decode()
    assert b"engine_stopped" in output
    assert b"whsec_" not in output  # the secret is never logged


def test_settings_are_checked_up_front(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    with pytest.raises(ValueError, match="whsec_"):
        EngineSettings(db_path=db, webhook_secret="plain")
    with pytest.raises(ValueError, match="base64"):
        EngineSettings(db_path=db, webhook_secret="whsec_not base64!")
    with pytest.raises(ValueError, match="translator"):
        EngineSettings(db_path=db, webhook_secret=new_secret(), translator="deepl")
    assert "sk-secret" not in repr(EngineSettings(db_path=db, webhook_secret=new_secret(), openai_api_key="sk-secret"))
