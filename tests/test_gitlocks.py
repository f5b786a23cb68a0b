"""Stale git locks are cleared only when no git process works in the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from daemon.gitlocks import clear_stale_locks, git_processes_in
from tests.helpers import wait_until


def init(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    return tmp_path / "repo"


def test_stale_index_and_ref_locks_are_removed(tmp_path: Path) -> None:
    root = init(tmp_path)
    (root / ".git/index.lock").write_text("")
    (root / ".git/refs/heads").mkdir(parents=True, exist_ok=True)
    (root / ".git/refs/heads/main.lock").write_text("")
    removed = clear_stale_locks(root)
    assert sorted(p.name for p in removed) == ["index.lock", "main.lock"]
    assert not (root / ".git/index.lock").exists()


def test_lock_is_kept_while_a_git_process_works_in_the_repo(tmp_path: Path) -> None:
    root = init(tmp_path)
    (root / ".git/index.lock").write_text("")
    # a stand-in for a human's `git commit` waiting on its editor: a process named git in the repo
    fake_git = tmp_path / "bin" / "git"
    fake_git.parent.mkdir()
    fake_git.symlink_to(sys.executable)
    proc = subprocess.Popen([str(fake_git), "-c", "import sys; sys.stdin.read()"], cwd=root, stdin=subprocess.PIPE)
    try:
        wait_until(lambda: proc.pid in git_processes_in(root))
        assert clear_stale_locks(root) == []
        assert (root / ".git/index.lock").exists()
    finally:
        proc.communicate(b"")
    assert clear_stale_locks(root) == [root / ".git/index.lock"]


def test_no_git_dir_means_nothing_to_do(tmp_path: Path) -> None:
    assert clear_stale_locks(tmp_path) == []
