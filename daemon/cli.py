"""The ``locsync`` command line. The one place that turns errors into messages and exit codes.

Exit codes: 0 success; 1 work failed (a locale failed, a file was malformed, git failed);
2 usage or config error; 3 the provider is unreachable or refuses our key.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
import structlog

import daemon
from daemon import logs
from daemon.config import LoadedConfig, load_config
from daemon.errors import ConfigError, LocsyncError, ProviderError

F = TypeVar("F", bound=Callable[..., Any])
log = structlog.get_logger("locsync.cli")


def _fail(message: str, code: int) -> None:
    click.echo(f"locsync: {message}", err=True)
    raise SystemExit(code)


def handles_errors(func: F) -> F:
    """Map locsync's exceptions to a message on stderr and an exit code (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            _fail(f"config error:\n{exc}", 2)
        except ProviderError as exc:
            _fail(f"provider error: {exc}", 3)
        except LocsyncError as exc:
            _fail(str(exc), 1)

    return wrapper  # type: ignore[return-value]


def _load(config: str) -> LoadedConfig:
    return load_config(Path(config))


config_option = click.option(
    "--config", "-c", default="locsync.yaml", show_default=True, envvar="LOCSYNC_CONFIG",
    type=click.Path(dir_okay=False), help="The YAML config file.",
)


@click.group()
@click.version_option(daemon.__version__, prog_name="locsync")
@click.option("--log-format", type=click.Choice(["auto", "console", "json"]), default="auto", show_default=True)
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info")
def main(log_format: str, log_level: str) -> None:
    """Keep every locale of your content in step with the source."""
    if not getattr(daemon, "__locsync__", False):  # pragma: no cover - environment problem
        _fail("the 'daemon' package is not locsync's (is python-daemon installed in this environment?)", 2)
    logs.configure(json_output=None if log_format == "auto" else log_format == "json", level=log_level)


@main.command()
@config_option
@click.option("--allow-deletions", is_flag=True, help="Let a plan delete more than the configured share of keys.")
@handles_errors
def run(config: str, allow_deletions: bool) -> None:
    """Run the daemon: watch sources, submit jobs, receive webhooks, write and commit."""
    from daemon.runtime import Daemon

    loaded = _load(config)
    raise SystemExit(asyncio.run(Daemon(loaded, allow_deletions=allow_deletions).run()))


@main.command()
@config_option
@click.option("--once", is_flag=True, required=True, help="Sync once and exit (the only mode for now).")
@click.option("--allow-deletions", is_flag=True, help="Let a plan delete more than the configured share of keys.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for all results.")
@handles_errors
def sync(config: str, once: bool, allow_deletions: bool, timeout: float) -> None:
    """Scan, submit, wait for every result, write and commit; exit non-zero if anything failed (for CI)."""
    from daemon.runtime import sync_once

    loaded = _load(config)
    result = asyncio.run(sync_once(loaded, allow_deletions=allow_deletions, timeout=timeout))
    for line in result.errors:
        click.echo(f"error: {line}", err=True)
    for line in result.failed:
        click.echo(f"failed: {line}", err=True)
    raise SystemExit(result.exit_code)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handles_errors
def plan(config: str, as_json: bool) -> None:
    """Dry run: per document and locale, which keys would be sent, written or deleted, and why."""
    from daemon.reports import plan_report

    report = plan_report(_load(config))
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    for error in report["errors"]:
        click.echo(f"error: {error}")
    for doc in report["documents"]:
        click.echo(doc["document"])
        for loc in doc["locales"]:
            counts = f"send {len(loc['send'])}, write {len(loc['write'])}, delete {len(loc['delete'])}"
            click.echo(f"  {loc['locale']}: {counts}")
            for key, reason in loc["reasons"].items():
                click.echo(f"    {key}: {reason}")
    if report["errors"]:
        raise SystemExit(1)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handles_errors
def status(config: str, as_json: bool) -> None:
    """Per document and locale: done, in flight or failed; and what the provider queue waits for."""
    from daemon.reports import status_report

    report = status_report(_load(config))
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    for doc in report["documents"]:
        click.echo(f"{doc['document']}: {doc['ready']} of {doc['total']} languages ready")
        for locale, info in doc["locales"].items():
            line = f"  {locale}: {info['state']}"
            if info.get("error"):
                line += f" ({info['error']})"
            click.echo(line)
    for waiting in report["waiting"]:
        click.echo(f"waiting: {waiting}")


@main.command()
@config_option
@click.argument("file")
@click.argument("key")
@handles_errors
def why(config: str, file: str, key: str) -> None:
    """Show where the value of KEY in target FILE came from."""
    from daemon.reports import why_report

    click.echo(why_report(_load(config), file, key))


@main.command()
@config_option
@handles_errors
def check(config: str) -> None:
    """Validate the config and reach the provider."""
    from daemon.reports import check_provider

    loaded = _load(config)
    click.echo(f"{loaded.path}: config ok ({len(loaded.config.sources)} sources)")
    click.echo(asyncio.run(check_provider(loaded)))


@main.group()
def engine() -> None:
    """The reference engine: a local server speaking the Lingo.dev async API."""


@engine.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8788, show_default=True)
@click.option("--db", default="engine.db", show_default=True, help="SQLite file for jobs (survives restarts).")
@click.option("--translator", type=click.Choice(["pseudo", "openai"]), default="pseudo", show_default=True)
@click.option("--openai-base-url", default="http://127.0.0.1:11434/v1", show_default=True)
@click.option("--openai-model", default="llama3.2", show_default=True)
@click.option("--api-key-env", default="LOCSYNC_ENGINE_API_KEY", show_default=True,
              help="Variable holding the accepted X-API-Key (unset: any non-empty key).")
@click.option("--webhook-secret-env", default="LOCSYNC_WEBHOOK_SECRET", show_default=True,
              help="Variable holding the whsec_ signing secret.")
@click.option("--allow-http-callbacks", is_flag=True, help="Accept http:// callback URLs (Lingo.dev does not).")
@click.option("--latency", default=0.0, show_default=True, help="Artificial seconds per job.")
def engine_serve(
    host: str, port: int, db: str, translator: str, openai_base_url: str, openai_model: str,
    api_key_env: str, webhook_secret_env: str, allow_http_callbacks: bool, latency: float,
) -> None:
    """Run the reference engine standalone."""
    import os

    from daemon.engine.app import serve
    from daemon.engine.settings import EngineSettings, Knobs

    secret = os.environ.get(webhook_secret_env)
    if not secret:
        _fail(f"set ${webhook_secret_env} to a whsec_ secret (the same one locsync verifies with)", 2)
    api_key = os.environ.get(api_key_env)
    settings = EngineSettings(
        db_path=db, webhook_secret=secret or "", api_keys=(api_key,) if api_key else (),
        translator=translator,
        openai_base_url=openai_base_url, openai_model=openai_model,
        openai_api_key=os.environ.get("OPENAI_API_KEY"), allow_http_callbacks=allow_http_callbacks,
    )
    asyncio.run(serve(settings, host, port, knobs=Knobs(latency_seconds=latency)))


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Where to create the demo project (default: a new temporary folder).")
@handles_errors
def demo(directory: str | None) -> None:
    """Copy the bundled example into a fresh git repository and sync it once with the embedded engine."""
    from daemon.runtime import sync_once

    target = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="locsync-demo-"))
    example = resources.files("daemon").joinpath("examples", "quickstart")
    with resources.as_file(example) as src:
        shutil.copytree(src, target, dirs_exist_ok=True)
    if not (target / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
        subprocess.run(["git", "-C", str(target), "add", "-A"], check=True)
        subprocess.run(
            ["git", "-C", str(target), "-c", "user.name=locsync demo", "-c", "user.email=demo@localhost",
             "commit", "-q", "-m", "Example content"], check=True,
        )
    loaded = load_config(target / "locsync.yaml")
    result = asyncio.run(sync_once(loaded, allow_deletions=False, timeout=120))
    click.echo(f"\nDemo project: {target}")
    for path in sorted((target / "locales").glob("*.json")):
        click.echo(f"\n--- {path.relative_to(target)}")
        click.echo(path.read_text(encoding="utf-8").rstrip())
    log_out = subprocess.run(["git", "-C", str(target), "log", "--stat", "-1"], capture_output=True, text=True)
    click.echo("\n--- latest commit\n" + log_out.stdout.rstrip())
    click.echo(f"\nNext: edit {target}/locales/en.json and run `locsync run -c {target}/locsync.yaml`.")
    raise SystemExit(result.exit_code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
