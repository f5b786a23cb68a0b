"""The ``locsync`` command line. The one place that turns errors into messages and exit codes.

Exit codes: 0 success; 1 work failed (a locale failed, a file was malformed, git failed);
2 usage or config error; 3 the provider is unreachable or refuses our key.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import structlog

import daemon
from daemon import logs
from daemon.errors import ConfigError, LocsyncError, ProviderError

if TYPE_CHECKING:
    # pydantic and the config models cost ~0.1 s: imported by the commands that read a config,
    # not by --help, --version or `engine serve` (tests/test_startup_cost.py checks)
    from daemon.config import LoadedConfig

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
    from daemon.config import load_config

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
    loaded = _load(config)
    _report_once(loaded, allow_deletions=allow_deletions, timeout=timeout)


def _report_once(loaded: LoadedConfig, *, allow_deletions: bool, timeout: float) -> None:
    from daemon.progress import TerminalProgress
    from daemon.runtime import sync_once

    progress = TerminalProgress(sys.stderr)
    # The modules and the config live until exit: keep the collector from walking them again
    # and again while the sync allocates (~40 ms of a one-key sync otherwise).
    gc.freeze()
    try:
        result = asyncio.run(sync_once(loaded, allow_deletions=allow_deletions, timeout=timeout, progress=progress))
    finally:
        progress.close()
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with --follow: one JSON object per line).")
@click.option("--follow", "-f", is_flag=True,
              help="Follow the groups in flight live through the provider's WebSocket until they complete (exit 1 if a locale failed).")
@click.option("--timeout", default=0.0, show_default=True, help="With --follow: give up after this many seconds (0: never).")
@handles_errors
def status(config: str, as_json: bool, follow: bool, timeout: float) -> None:
    """Per document and locale: done, in flight or failed; and what the provider queue waits for."""
    from daemon.reports import status_report

    loaded = _load(config)
    if follow:
        _follow(loaded, as_json=as_json, timeout=timeout)
        return
    report = status_report(loaded)
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


def _follow(loaded: LoadedConfig, *, as_json: bool, timeout: float) -> None:
    from daemon.live import GroupProgress, follow_in_flight

    shown: dict[str, str] = {}

    def emit(group: GroupProgress, kind: str) -> None:
        if kind.startswith("reconnecting"):
            click.echo(f"{group.document} v{group.version}: connection lost; {kind}", err=True)
            return
        if as_json:
            click.echo(json.dumps(group.as_json(kind), ensure_ascii=False))
            return
        line = group.line()
        if shown.get(group.group_id) != line:
            shown[group.group_id] = line
            click.echo(line)

    def say(text: str) -> None:
        if as_json:
            click.echo(json.dumps({"type": "note", "message": text}))
        else:
            click.echo(text)

    groups = asyncio.run(follow_in_flight(loaded, emit, say=say, timeout=timeout or None))
    if not groups:
        say("nothing in flight")
    if any(group.failed for group in groups):
        raise SystemExit(1)


@main.group()
def jobs() -> None:
    """The provider's jobs: list them, show one."""


@jobs.command("list")
@config_option
@click.option("--status", default=None, help="Only jobs with this status (queued, processing, completed, failed, ...).")
@click.option("--engine", "engine_id", default=None, help="Only jobs of this engine id.")
@click.option("--since", default=None, help="Only jobs created since an ISO-8601 time or an age (30m, 2h, 7d).")
@click.option("--limit", default=100, show_default=True, help="Show at most this many jobs (0: all).")
@click.option("--page-size", default=100, show_default=True, type=click.IntRange(1, 100), help="Jobs per request.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (a JSON array).")
@handles_errors
def jobs_list(config: str, status: str | None, engine_id: str | None, since: str | None, limit: int,
              page_size: int, as_json: bool) -> None:
    """Walk the provider's job list (newest first) with its cursor."""
    from daemon.live import JobsClient, parse_since, provider_endpoint

    try:
        since_at = parse_since(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    loaded = _load(config)
    client = JobsClient.for_endpoint(provider_endpoint(loaded), timeout=loaded.config.provider.timeout_seconds)

    async def collect() -> list[dict[str, Any]]:
        try:
            return [item async for item in client.walk(status=status, engine_id=engine_id, since=since_at,
                                                       limit=limit or None, page_size=page_size)]
        finally:
            await client.aclose()

    items = asyncio.run(collect())
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    for item in items:
        warnings = len(item.get("warnings") or [])
        click.echo(f"{item.get('id')}  {item.get('groupId')}  {item.get('targetLocale')!s:<8} "
                   f"{item.get('status')!s:<24} {item.get('createdAt')}" + (f"  {warnings} warnings" if warnings else ""))
    click.echo(f"{len(items)} jobs", err=True)


@jobs.command("show")
@config_option
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="The provider's full JSON record.")
@handles_errors
def jobs_show(config: str, job_id: str, as_json: bool) -> None:
    """One job: status, output summary, warnings and pipeline steps."""
    from daemon.live import JobsClient, flatten_keys, provider_endpoint

    loaded = _load(config)
    client = JobsClient.for_endpoint(provider_endpoint(loaded), timeout=loaded.config.provider.timeout_seconds)

    async def fetch() -> dict[str, Any]:
        try:
            return await client.job(job_id)
        finally:
            await client.aclose()

    job = asyncio.run(fetch())
    if as_json:
        click.echo(json.dumps(job, indent=2, ensure_ascii=False))
        return
    click.echo(f"{job.get('id')} (group {job.get('groupId')})")
    click.echo(f"  locale: {job.get('sourceLocale')} -> {job.get('targetLocale')}")
    click.echo(f"  status: {job.get('status')}")
    click.echo(f"  created: {job.get('createdAt')}  completed: {job.get('completedAt') or '-'}")
    if job.get("engineId"):
        click.echo(f"  engine: {job.get('engineId')}")
    if job.get("errorMessage"):
        click.echo(f"  error: {job.get('errorMessage')}")
    keys = flatten_keys(job.get("outputData"))
    if job.get("outputData") is None:
        click.echo("  output: none")
    else:
        sample = ", ".join(keys[:5]) + (", ..." if len(keys) > 5 else "")
        click.echo(f"  output: {len(keys)} keys" + (f" ({sample})" if keys else ""))
    warnings = job.get("warnings") or []
    click.echo(f"  warnings: {len(warnings)}")
    for warning in warnings:
        if isinstance(warning, dict):
            where = f" at {warning['path']}" if warning.get("path") else ""
            click.echo(f"    - {warning.get('code', 'warning')}{where}: {warning.get('message', '')}")
        else:
            click.echo(f"    - {warning}")
    steps = job.get("steps") or []
    click.echo(f"  steps: {len(steps)}")
    for step in steps:
        if isinstance(step, dict):
            name = step.get("stage") or step.get("name") or "step"
            click.echo(f"    - {name}: {step.get('status')} ({step.get('startedAt')} -> {step.get('completedAt') or '...'})")


@main.command()
@config_option
@click.argument("document", required=False)
@click.option("--locale", "-l", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option("--timeout", default=600.0, show_default=True,
              help="Without a running daemon: seconds to wait for the new results.")
@handles_errors
def retry(config: str, document: str | None, locales: tuple[str, ...], timeout: float) -> None:
    """Resubmit the failed locales (of DOCUMENT, or all) as a new version.

    With `locsync run` up, the daemon is asked to rescan (SIGHUP) and does the rest; otherwise
    this syncs once, like `sync --once`.
    """
    import os
    import signal

    from daemon.live import running_daemon
    from daemon.retry import clear_sent, plan_retry
    from daemon.state.store import StateStore

    loaded = _load(config)
    store = StateStore(loaded.state_path)
    try:
        items = plan_retry(store, document=document, locales=set(locales) or None)
        clear_sent(store, items)
        daemon_running = running_daemon(store)
    finally:
        store.close()
    if not items:
        what = " ".join(filter(None, [document, *(f"[{loc}]" for loc in locales)]))
        click.echo(f"nothing to retry{' for ' + what if what else ''}: no failed locale has keys left to resend")
        return
    for item in items:
        click.echo(f"retrying {item.line()}")
    if daemon_running is not None:
        pid = daemon_running[0]
        try:
            os.kill(pid, signal.SIGHUP)
        except PermissionError:
            click.echo(f"the daemon (pid {pid}) runs as another user: run `systemctl reload locsync` to resubmit now")
            return
        click.echo(f"asked the running daemon (pid {pid}) to resubmit; follow with `locsync status --follow`")
        return
    _report_once(loaded, allow_deletions=False, timeout=timeout)


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
    from importlib import resources

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
    loaded = _load(str(target / "locsync.yaml"))
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
