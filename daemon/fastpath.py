"""``locsync sync --once`` when nothing changed: answered from a snapshot, before any import.

A CI job that runs ``sync --once`` on every push mostly finds nothing to do. The full path
costs the interpreter plus every library (pydantic, httpx, uvicorn, the formats) before it
can look at a single file. This module needs only the standard library: it reads the
snapshot that the last successful ``sync --once`` left in the state database (the stat of
every source and target file and of every watched folder, and the config file's digest) and,
if every stat still matches, exits 0 at once.

Why it cannot lie:

- The snapshot is taken only when the sync ended with no open work (no queued submission,
  no open or unapplied job, no uncommitted file) and no file was modified in the last
  ``RACY_SECONDS`` (a same-size rewrite inside one timestamp tick would keep its stat).
- Triggers delete the snapshot on any change to the state tables (``schema.py``): a webhook,
  a submission or a forgotten key means the next run takes the full path.
- A new, removed or renamed file changes its folder's mtime; every folder under the watched
  roots is in the snapshot.
- The config file's SHA-256 must match. The state path is read from the config without a YAML
  parser; a wrong guess finds no snapshot or one with another digest, and falls back.

Anything unexpected (other options, a CMS source, an unreadable file) takes the full path.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daemon.config import LoadedConfig
    from daemon.sources.files import FileDocument
    from daemon.syncer import Syncer

RACY_SECONDS = 1.0
DEFAULT_STATE = ".locsync/state.db"
SKIPPED_DIRS = {".git"}  # besides the state folder; discovery (Path.glob) skips nothing else


def _stat(path: str) -> list[Any]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return [path, None]
    return [path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


# --- taking the snapshot (the full path, at the end of a clean sync --once) ---------------


Listing = list[tuple[int, "FileDocument"]]
Stats = tuple[list[list[Any]], list[list[Any]]]


def current_stats(loaded: LoadedConfig, syncer: Syncer, listing: Listing | None = None) -> Stats:
    """The stat of every source and target file and of every folder under the watched roots.

    The folders are walked before the documents are listed (here, or by the caller after its
    own walk: ``stats_and_listing``), so a file created or removed after the walk changes a
    folder's stat, and one created before it is in the listing: one listing can then serve
    the stats before a run, its scan, and the stats after it.
    """
    dirs = _folder_stats(loaded, syncer)
    return _file_stats(syncer.documents() if listing is None else listing), dirs


def stats_and_listing(loaded: LoadedConfig, syncer: Syncer) -> tuple[Stats, Listing]:
    """``current_stats`` and the listing it used, for the scan to use too (one glob, not three)."""
    dirs = _folder_stats(loaded, syncer)
    listing = syncer.documents()
    return (_file_stats(listing), dirs), listing


def _file_stats(listing: Listing) -> list[list[Any]]:
    return [_stat(doc.lexical_path(locale))
            for _index, doc in listing for locale in (doc.source.source_locale, *doc.source.target_locales)]


def _folder_stats(loaded: LoadedConfig, syncer: Syncer) -> list[list[Any]]:
    dirs = []
    state_dir = loaded.state_path.parent
    for root in {d for source in syncer.sources for d in source.watch_dirs()}:
        for folder, subdirs, _names in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and Path(folder, d) != state_dir)
            dirs.append(_stat(folder))
    return sorted(dirs)


def save_snapshot(
    loaded: LoadedConfig, syncer: Syncer, *, started_at: float, before: Stats, listing: Listing | None = None
) -> bool:
    """Record the stats that make the next run a no-op; False when this run cannot vouch for them.

    ``before`` is ``current_stats`` taken before the run's scan: the snapshot is kept only when
    nothing changed since, so a file saved (or created) while the run worked, or written by
    the run itself, is looked at again by the next run.
    """
    if syncer.cms or syncer.open_work() or syncer.store.pending_commits():
        return False
    config_stat = loaded.path.stat()
    if config_stat.st_mtime >= started_at - RACY_SECONDS:
        return False  # edited while (or just before) we ran: the run may have used other bytes
    files, dirs = current_stats(loaded, syncer, listing)
    if (files, dirs) != before:
        return False
    now = time.time()
    newest = max((entry[3] for entry in files + dirs if entry[1] is not None), default=0)
    if newest / 1e9 >= now - RACY_SECONDS:
        return False
    snapshot = {
        "config": str(loaded.path.resolve()),
        "config_sha256": hashlib.sha256(loaded.path.read_bytes()).hexdigest(),
        "files": files,
        "dirs": dirs,
    }
    syncer.store.save_noop_snapshot(json.dumps(snapshot, separators=(",", ":")))
    return True


# --- using it (before anything else is imported) -------------------------------------------


def _config_from_argv(argv: list[str]) -> str | None:
    """The config path of exactly ``[--log-format F] [--log-level L] sync --once [-c PATH]``, else None."""
    args = list(argv)
    while args and args[0] in ("--log-format", "--log-level"):
        if len(args) < 2:
            return None
        args = args[2:]
    if args[:1] != ["sync"]:
        return None
    config = os.environ.get("LOCSYNC_CONFIG", "locsync.yaml")
    rest = args[1:]
    seen_once = False
    while rest:
        arg = rest.pop(0)
        if arg == "--once":
            seen_once = True
        elif arg in ("-c", "--config") and rest:
            config = rest.pop(0)
        elif arg.startswith("--config="):
            config = arg.removeprefix("--config=")
        else:
            return None
    return config if seen_once else None


def _state_path(config_path: Path, text: str) -> Path:
    """Where the config puts the state database, read without a YAML parser (a guess; see above).

    The state path is relative to the config file (not to ``root``)."""
    state = DEFAULT_STATE
    try:
        data = json.loads(text)  # JSON is YAML: configs written by tools
    except ValueError:
        data = None
    if isinstance(data, dict):
        state = str((data.get("state") or {}).get("path", DEFAULT_STATE))
    else:
        match = re.search(r"^state:\s*\n[ \t]+path:[ \t]*['\"]?([^'\"\n#]+?)['\"]?[ \t]*(?:#.*)?$", text, re.M)
        if match:
            state = match.group(1)
    return (config_path.parent / state).resolve()


def unchanged(argv: list[str]) -> int | None:
    """The number of files checked when ``argv`` is a ``sync --once`` with nothing to do, else None."""
    config = _config_from_argv(argv)
    if config is None:
        return None
    config_path = Path(config)
    try:
        data = config_path.read_bytes()
        db = _state_path(config_path, data.decode("utf-8"))
        if not db.is_file():
            return None
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)
        try:
            row = conn.execute("SELECT value FROM noop_snapshot WHERE id = 1").fetchone()
        finally:
            conn.close()
    except (OSError, UnicodeDecodeError, sqlite3.Error):
        return None
    if row is None:
        return None
    snapshot = json.loads(row[0])
    if snapshot["config"] != str(config_path.resolve()):
        return None
    if snapshot["config_sha256"] != hashlib.sha256(data).hexdigest():
        return None
    for entry in snapshot["dirs"]:
        if _stat(entry[0]) != entry:
            return None
    for entry in snapshot["files"]:
        if _stat(entry[0]) != entry:
            return None
    return len(snapshot["files"])


def _say(argv: list[str], files: int) -> None:
    json_logs = "--log-format" in argv and argv[argv.index("--log-format") + 1] == "json"
    if json_logs or not sys.stderr.isatty():
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"
        line = {"files": files, "event": "sync_unchanged", "level": "info", "timestamp": stamp}
        sys.stderr.write(json.dumps(line) + "\n")
    else:
        sys.stderr.write(f"nothing changed since the last sync ({files} files checked)\n")


def main() -> None:
    """The ``locsync`` entry point: the no-op answer when it applies, else the full CLI."""
    argv = sys.argv[1:]
    files = unchanged(argv)
    if files is not None:
        _say(argv, files)
        raise SystemExit(0)
    from daemon.cli import main as cli_main

    try:
        cli_main()
    finally:
        # Everything that matters is closed and flushed by now. Without this, the interpreter's
        # exit spends ~80 ms collecting a heap of imported modules the OS frees anyway.
        gc.freeze()
