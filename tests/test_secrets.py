"""Secrets never reach logs, errors or status output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import structlog

from daemon import logs
from daemon.secrets import Secret, load_secret
from tests.e2e.harness import EngineProcess, Project

KEY = "sk_live_do_not_leak_0123456789"


def test_secret_repr_and_str_are_redacted() -> None:
    secret = Secret(KEY)
    assert KEY not in repr(secret) and KEY not in str(secret) and KEY not in f"{secret}"
    assert secret.reveal() == KEY


def test_log_fields_named_like_secrets_are_masked(capsys: object) -> None:
    event = logs.redact(None, "info", {"event": "x", "api_key": KEY, "webhook_secret": KEY, "Authorization": KEY,
                                       "document": "d"})
    assert KEY not in json.dumps(dict(event)) and event["document"] == "d"


def test_secret_file_errors_name_the_file_not_the_value(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("")
    try:
        load_secret(env=None, file="empty", credential=None, base=tmp_path)
    except ValueError as exc:
        assert "empty" in str(exc)
    (tmp_path / "key").write_text(KEY + "\n")
    assert load_secret(env=None, file="key", credential=None, base=tmp_path) == Secret(KEY)


def test_credentials_directory_wins(tmp_path: Path, monkeypatch: object) -> None:
    (tmp_path / "api-key").write_text(KEY)
    env = {**os.environ, "CREDENTIALS_DIRECTORY": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from pathlib import Path; from daemon.secrets import load_secret;"
         "print(load_secret(env='NOPE', file=None, credential='api-key', base=Path('.')).reveal())"],
        capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == KEY


def test_a_rejected_key_never_appears_in_output_logs_or_status(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    try:
        project = Project(tmp_path / "repo", provider={"kind": "lingo", "baseUrl": engine.url})
        project.env["LINGO_API_KEY"] = KEY  # not the engine's key: every call is a 401
        result = project.cli("sync", "--once")
        assert result.returncode != 0
        assert "401" in result.stderr
        status = project.cli("status")
        check = project.cli("check")
        assert check.returncode == 3
        outputs = [result.stdout, result.stderr, status.stdout, status.stderr, check.stdout, check.stderr,
                   (tmp_path / "engine/engine.log").read_text()]
        outputs += [p.read_text(errors="replace") for p in project.root.rglob("*.log")]
        outputs += [p.read_bytes().decode("utf-8", "replace") for p in (project.root / ".locsync").glob("*.db")]
        assert not [o for o in outputs if KEY in o]
    finally:
        engine.stop()


def test_structlog_capture_never_sees_the_key_during_a_provider_call() -> None:
    import asyncio

    import httpx

    from daemon.errors import ProviderError
    from daemon.providers.lingo import LingoProvider

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == KEY
        return httpx.Response(401, json={"message": "invalid API key"})

    async def call() -> str:
        provider = LingoProvider("https://api.lingo.dev", Secret(KEY), transport=httpx.MockTransport(handler))
        try:
            await provider.check()
        except ProviderError as exc:
            return str(exc) + repr(exc.__dict__)
        finally:
            await provider.aclose()
        return ""

    with structlog.testing.capture_logs() as captured:
        text = asyncio.run(call())
    assert "401" in text and KEY not in text and KEY not in repr(captured)
