"""Crash-safe file writes and path confinement for everything the daemon writes.

A target file is either the old version or the new one, never half of each: the data goes to
a temp file in the same folder (same filesystem, so the rename is atomic), is fsynced, then
renamed over the target, and the folder is fsynced so the rename itself survives a power cut.
Temp files carry a recognizable name so the watcher can ignore them and a crash's leftovers
can be swept at start-up.

``confined_path`` exists because relative paths come from config patterns and from provider
payloads; none of them may make the daemon write outside its content root.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import functools
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

_TEMP_MARK = ".locsync-tmp."
_TEMP_NAME = re.compile(r"\..*\.locsync-tmp\.[0-9]+\.[0-9a-f]+", re.DOTALL)
_NAME_MAX = 255
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def is_temp_file(path: Path | str) -> bool:
    """Whether ``path`` names a temp file of ``atomic_write`` (for the watcher and the sweep)."""
    return _TEMP_NAME.fullmatch(Path(path).name) is not None


def _temp_name(name: str) -> str:
    """``.{name}.locsync-tmp.{pid}.{random}``, with ``name`` shortened to fit NAME_MAX bytes."""
    suffix = f"{_TEMP_MARK}{os.getpid()}.{secrets.token_hex(6)}"
    budget = _NAME_MAX - 1 - len(suffix)
    while len(os.fsencode(name)) > budget:
        name = name[:-1]
    return f".{name}{suffix}"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP):  # filesystems that cannot fsync a folder
            raise
    finally:
        os.close(fd)


_deferred_folder_syncs: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "locsync_deferred_folder_syncs", default=None)


@contextlib.contextmanager
def folder_syncs_deferred() -> Iterator[None]:
    """Inside, ``atomic_write`` leaves each folder's fsync to the end of the block, once per folder.

    For a batch of writes whose record is committed only after the block (``Syncer.apply_received``
    commits a chunk's records after its files): 64 files in one folder cost one folder fsync
    instead of 64, and the record still cannot reach the disk before the renames it describes.
    Each file's own data is fsynced before its rename as always. Per task (a context variable):
    other tasks' writes keep their own fsyncs.
    """
    pending: set[str] = set()
    token = _deferred_folder_syncs.set(pending)
    try:
        yield
    finally:
        _deferred_folder_syncs.reset(token)
        for folder in sorted(pending):
            _fsync_dir(Path(folder))


class FileChangedError(Exception):
    """The file changed on disk after it was read; nothing was written (re-read and retry)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} changed while locsync was writing it; nothing was written")


_ANY = object()


def _current_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, expected: bytes | object | None = _ANY) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    With ``expected`` (the bytes read before computing ``data``, or None for "did not exist"),
    the file is compared again right before the rename and ``FileChangedError`` is raised if
    someone saved it meanwhile, so a person editing the same file never loses their save to
    ours (the window left is the microseconds between that check and the rename).

    The permission bits are ``mode`` if given, else those of the existing file, else 0o644
    minus the umask. A symlink at ``path`` is replaced by a regular file; callers that want
    to write through links resolve them first (``confined_path`` does). On any failure the
    temp file is removed, the old file is untouched, and the exception propagates.
    """
    path = Path(path)
    folder = path.parent
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = None  # let the kernel apply the umask to 0o644
    fd = -1
    temp: Path | None = None
    try:
        for _attempt in range(10):
            temp = folder / _temp_name(path.name)
            try:
                fd = os.open(temp, _OPEN_FLAGS, 0o644)
                break
            except FileExistsError:
                temp = None
        else:
            raise FileExistsError(errno.EEXIST, "could not create a unique temp file", str(folder))
        if mode is not None:
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(errno.EIO, "write returned no progress", str(temp))
            view = view[written:]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if expected is not _ANY and _current_bytes(path) != expected:
            raise FileChangedError(path)
        os.replace(temp, path)
        temp = None
    except BaseException:
        if fd >= 0:
            os.close(fd)
        if temp is not None:
            # The original error matters more than a leftover, which the sweep removes later.
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    deferred = _deferred_folder_syncs.get()
    if deferred is None:
        _fsync_dir(folder)
    else:
        deferred.add(os.fspath(folder))


def sweep_temp_files(root: Path) -> list[Path]:
    """Remove the temp files a crash left under ``root``; return what was removed.

    Meant for start-up, before any write of this process. Symlinked folders are not entered
    and ``.git`` is skipped: neither can hold our temp files.
    """
    removed: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            if _TEMP_NAME.fullmatch(name):
                candidate = Path(folder) / name
                try:
                    os.unlink(candidate)
                except FileNotFoundError:
                    continue
                removed.append(candidate)
    return sorted(removed)


def confined_path(root: Path, relative: str) -> Path:
    """``root / relative`` with symlinks resolved, guaranteed to stay inside ``root``.

    The result is ``root`` (as given) joined with the resolved path relative to the resolved
    root, so ``result.relative_to(root)`` works even when ``root`` is not resolved itself.
    Raises ``ValueError`` for NUL bytes, absolute paths, ``..`` that climb above ``root``, and
    symlinks (anywhere on the way) that lead outside it. A link swapped in after this check
    is not caught: the content root is trusted, only the relative path is not.
    """
    return Path(root, confined_relpath(root, relative))


def confined_relpath(root: Path, relative: str) -> str:
    """What ``confined_path`` joins to ``root``, as a POSIX string (``""`` for the root itself).

    A scan asks for every source and target path of every document, several times each, so
    this works on strings (``os.path.realpath``) rather than ``Path`` objects, and resolves an
    absolute root once per process (``_resolved_root``): the root is trusted and fixed.
    """
    if "\x00" in relative:
        raise ValueError(f"path {relative!r} contains a NUL byte")
    if os.path.isabs(relative):
        raise ValueError(f"path {relative!r} is absolute; expected a path relative to {root}")
    base = _resolved_root(os.fspath(root))
    resolved = os.path.realpath(os.path.join(base, relative))
    try:
        os.stat(resolved)  # non-strict realpath leaves a symlink loop unresolved; stat reports it
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"path {relative!r} cannot be resolved under {root}: {e}") from None
    if resolved == base:
        return ""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not resolved.startswith(prefix):
        raise ValueError(f"path {relative!r} leads outside {root} (to {resolved})")
    rel = resolved[len(prefix):]
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


def _resolved_root(root: str) -> str:
    """``root`` with symlinks resolved; absolute roots are cached (a relative one follows the cwd)."""
    if not os.path.isabs(root):
        return os.path.realpath(root)
    return _resolved_absolute_root(root)


@functools.lru_cache(maxsize=64)
def _resolved_absolute_root(root: str) -> str:
    return os.path.realpath(root)
