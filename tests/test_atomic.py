"""atomic_write, the temp-file sweep and confined_path, on real files."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon import atomic
from daemon.atomic import atomic_write, confined_path, is_temp_file, sweep_temp_files

NOBODY = 65534


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if is_temp_file(p)]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@contextmanager
def unprivileged() -> Iterator[None]:
    """Drop root's effective ids for the block, so that permission bits apply (tests run as root)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


# --- atomic_write ---------------------------------------------------------------------------


def test_creates_a_new_file_with_umask_applied(tmp_path: Path) -> None:
    target = tmp_path / "de.json"
    with umask(0o027):
        atomic_write(target, b'{"a": "b"}\n')
    assert target.read_bytes() == b'{"a": "b"}\n'
    assert mode_of(target) == 0o640
    assert leftovers(tmp_path) == []


def test_replaces_content_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "de.json"
    target.write_bytes(b"old")
    target.chmod(0o600)
    with umask(0o077):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode_of(target) == 0o600
    target.chmod(0o755)
    atomic_write(target, b"newer")
    assert mode_of(target) == 0o755


def test_explicit_mode_is_not_subject_to_umask(tmp_path: Path) -> None:
    target = tmp_path / "x"
    with umask(0o077):
        atomic_write(target, b"", mode=0o664)
    assert mode_of(target) == 0o664 and target.read_bytes() == b""


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    calls = []

    def dribble(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", dribble)
    payload = bytes(range(256)) * 3
    atomic_write(tmp_path / "f", payload)
    assert (tmp_path / "f").read_bytes() == payload
    assert len(calls) == -(-len(payload) // 7)


def test_disk_full_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "de.json"
    target.write_bytes(b"old content")
    real_write = os.write
    calls = 0

    def fill_up(fd: int, data: bytes | memoryview) -> int:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, bytes(data[:4]))

    monkeypatch.setattr(os, "write", fill_up)
    with pytest.raises(OSError) as info:
        atomic_write(target, b"much longer new content")
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old content"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("step", ["fsync", "replace", "fchmod"])
def test_failure_at_any_step_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    target = tmp_path / "de.json"
    target.write_bytes(b"old")

    def fail(*_args: object) -> None:
        raise PermissionError(errno.EACCES, "denied")

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(PermissionError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_read_only_folder_keeps_the_old_file(tmp_path: Path) -> None:
    # Root ignores permission bits, so the write runs with nobody's ids; nobody cannot enter
    # pytest's 0700 tmp folders, hence a world-traversable folder of our own in that case.
    base = Path(tempfile.mkdtemp()) if os.geteuid() == 0 else tmp_path
    base.chmod(0o755)
    folder = base / "locales"
    folder.mkdir()
    target = folder / "de.json"
    target.write_bytes(b"old")
    target.chmod(0o666)
    folder.chmod(0o555)
    try:
        with unprivileged(), pytest.raises(PermissionError):
            atomic_write(target, b"new")
        assert target.read_bytes() == b"old"
        assert sorted(folder.iterdir()) == [target]
    finally:
        folder.chmod(0o755)
        if base != tmp_path:
            shutil.rmtree(base)


def test_target_that_is_a_directory_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "de.json").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path / "de.json", b"x")
    assert leftovers(tmp_path) == []


def test_existing_temp_name_is_never_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """O_EXCL|O_NOFOLLOW: a planted symlink at the temp name is skipped, not written through."""
    outside = tmp_path / "outside"
    outside.write_bytes(b"precious")
    folder = tmp_path / "content"
    folder.mkdir()
    tokens = iter(["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(tokens))
    planted = folder / f".de.json.locsync-tmp.{os.getpid()}.aaaaaaaaaaaa"
    planted.symlink_to(outside)
    atomic_write(folder / "de.json", b"new")
    assert (folder / "de.json").read_bytes() == b"new"
    assert outside.read_bytes() == b"precious"
    assert planted.is_symlink()


def test_symlink_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "de.json"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert real.read_bytes() == b"old"


def test_longest_file_name_still_gets_a_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    name = "é" * 127  # 254 bytes
    atomic_write(tmp_path / name, b"x")
    assert (tmp_path / name).read_bytes() == b"x"
    assert len(os.fsencode(seen[0])) <= 255 and is_temp_file(seen[0])


# --- temp files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (".de.json.locsync-tmp.123.0a1b2c3d4e5f", True),
        ("locales/.x.locsync-tmp.1.ab", True),
        ("de.json", False),
        (".de.json.locsync-tmp.bak", False),
        ("de.json.locsync-tmp.1.ab", False),
        (".de.json.locsync-tmp.1.XYZ", False),
        (".de.json.swp", False),
    ],
)
def test_is_temp_file(name: str, expected: bool) -> None:
    assert is_temp_file(name) is expected
    assert is_temp_file(Path(name)) is expected


def test_sweep_removes_leftovers_only(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "locales" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "linked").symlink_to(outside, target_is_directory=True)
    stale = [
        root / ".de.json.locsync-tmp.1.aa",
        root / "locales" / "deep" / ".fr.json.locsync-tmp.99.0f",
    ]
    kept = [
        root / "de.json",
        root / ".git" / ".x.locsync-tmp.1.aa",
        outside / ".x.locsync-tmp.1.aa",
        root / ".de.json.locsync-tmp.notes",
    ]
    for path in stale + kept:
        path.write_bytes(b"x")
    (root / ".dir.locsync-tmp.1.aa").mkdir()
    assert sweep_temp_files(root) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert (root / ".dir.locsync-tmp.1.aa").is_dir()
    assert sweep_temp_files(root) == []


def test_sweep_finds_what_a_crash_leaves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object) -> None:
        raise KeyboardInterrupt  # even a BaseException cleans up ...

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "a", b"x")
    assert leftovers(tmp_path) == []
    # ... so simulate a hard crash (no cleanup at all) by writing the temp file by hand.
    orphan = tmp_path / f".a.locsync-tmp.{os.getpid()}.abcdef"
    orphan.write_bytes(b"half")
    assert sweep_temp_files(tmp_path) == [orphan]


# --- confined_path --------------------------------------------------------------------------


def test_confined_paths_inside_root(tmp_path: Path) -> None:
    (tmp_path / "locales").mkdir()
    assert confined_path(tmp_path, "locales/de.json") == tmp_path / "locales" / "de.json"
    assert confined_path(tmp_path, "locales/../de.json") == tmp_path / "de.json"
    assert confined_path(tmp_path, "./a/./b") == tmp_path / "a" / "b"
    assert confined_path(tmp_path, "") == tmp_path


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("../x.json", "leads outside"),
        ("a/../../x.json", "leads outside"),
        ("/etc/passwd", "absolute"),
        ("a\x00b", "NUL"),
    ],
)
def test_escapes_are_refused(tmp_path: Path, relative: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        confined_path(tmp_path, relative)


def test_symlinks_are_resolved(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(ValueError, match="outside"):
        confined_path(root, "escape/de.json")
    assert confined_path(root, "alias/de.json") == root / "real" / "de.json"
    with pytest.raises(ValueError):
        confined_path(root, "loop/de.json")


def test_result_is_relative_to_an_unresolved_root(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    root = tmp_path / "via-link"
    root.symlink_to(tmp_path / "real", target_is_directory=True)
    result = confined_path(root, "locales/de.json")
    assert result == root / "locales" / "de.json"
    assert result.relative_to(root).as_posix() == "locales/de.json"


@pytest.fixture(scope="module")
def maze(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with nested folders and symlinks pointing inside, outside and at themselves."""
    base = tmp_path_factory.mktemp("maze")
    root = base / "root"
    (root / "a" / "b").mkdir(parents=True)
    (base / "outside").mkdir()
    (root / "out").symlink_to(base / "outside", target_is_directory=True)
    (root / "a" / "up").symlink_to(base, target_is_directory=True)
    (root / "a" / "in").symlink_to(root / "a" / "b", target_is_directory=True)
    (root / "a" / "abs").symlink_to("/")
    (root / "loop").symlink_to(root / "loop")
    return root


SEGMENT = st.sampled_from(["..", ".", "a", "b", "out", "up", "in", "abs", "loop", "x.json", "", "\x00", "/etc"])


@given(st.lists(SEGMENT, max_size=8).map("/".join))
def test_no_result_is_ever_outside_root(maze: Path, relative: str) -> None:
    try:
        result = confined_path(maze, relative)
    except ValueError:
        return
    assert result.resolve().is_relative_to(maze.resolve())
    assert result.is_relative_to(maze)


def test_expected_bytes_guard_refuses_to_clobber_a_concurrent_save(tmp_path: Path) -> None:
    """If the file changed after we read it, nothing is written and FileChangedError says so."""
    from daemon.atomic import FileChangedError

    target = tmp_path / "de.json"
    target.write_bytes(b"theirs, saved after we read\n")
    with pytest.raises(FileChangedError):
        atomic_write(target, b"ours\n", expected=b"what we read\n")
    assert target.read_bytes() == b"theirs, saved after we read\n"
    assert sweep_temp_files(tmp_path) == []
    atomic_write(target, b"ours\n", expected=b"theirs, saved after we read\n")
    assert target.read_bytes() == b"ours\n"
    with pytest.raises(FileChangedError):
        atomic_write(tmp_path / "new.json", b"x", expected=b"existed")
    atomic_write(tmp_path / "new.json", b"x", expected=None)
    assert (tmp_path / "new.json").read_bytes() == b"x"


def test_deferred_folder_syncs_happen_once_per_folder_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = atomic._fsync_dir
    monkeypatch.setattr(atomic, "_fsync_dir", lambda folder: (synced.append(folder.name), real(folder)))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with atomic.folder_syncs_deferred():
        for name in ("a/1.json", "a/2.json", "b/1.json", "a/1.json"):
            atomic_write(tmp_path / name, b"{}\n")
        assert synced == []  # nothing yet: the block's end does it
    assert synced == ["a", "b"]
    atomic_write(tmp_path / "b/2.json", b"{}\n")  # outside the block: at once, as always
    assert synced == ["a", "b", "b"]


def test_deferred_folder_syncs_still_happen_when_the_block_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    monkeypatch.setattr(atomic, "_fsync_dir", lambda folder: synced.append(folder.name))
    (tmp_path / "a").mkdir()
    with pytest.raises(RuntimeError), atomic.folder_syncs_deferred():
        atomic_write(tmp_path / "a/1.json", b"{}\n")
        raise RuntimeError("the chunk failed after a write")
    assert synced == ["a"]
