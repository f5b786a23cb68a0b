"""Stale git lock files left by a killed ``git`` (ours, after SIGKILL or power loss).

Git removes its ``*.lock`` files on exit and on signals, but not on SIGKILL. A stale
``index.lock`` makes every later ``git add`` fail, so the daemon would never commit again.
At start-up no git child of ours is running, so a lock is stale unless another ``git``
process is working in this repository (a human's ``git commit`` with its editor open holds
``index.lock``): we look for one in ``/proc`` and leave the lock alone if we find it.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog

log = structlog.get_logger("locsync.git")


def git_processes_in(root: Path) -> list[int]:
    """PIDs of running ``git`` processes whose working folder is inside ``root`` (Linux /proc)."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    resolved = root.resolve()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if not comm.startswith("git"):
                continue
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == resolved or resolved in cwd.parents:
            found.append(int(entry.name))
    return found


def clear_stale_locks(root: Path) -> list[Path]:
    """Remove lock files in ``root/.git`` when no git process works in ``root``; return them."""
    git_dir = root / ".git"
    if not git_dir.is_dir():
        return []
    candidates = [git_dir / "index.lock", git_dir / "HEAD.lock", *sorted((git_dir / "refs").rglob("*.lock"))]
    present = [path for path in candidates if path.exists()]
    if not present:
        return []
    busy = git_processes_in(root)
    if busy:
        log.warning("git_lock_kept", locks=[str(p) for p in present], git_pids=busy,
                    hint="another git process is working in this repository")
        return []
    for path in present:
        path.unlink(missing_ok=True)
        log.warning("git_stale_lock_removed", lock=str(path))
    return present
