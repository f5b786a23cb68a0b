"""Commit the files locsync wrote, and only those, into the user's repository.

The repository is the user's: they may have other files staged, unstaged edits, hooks,
signing and a lock held by their own ``git`` at any moment. So this module

* drives the real ``git`` binary (never a library), so hooks, signing, ``.gitattributes``
  and LFS behave exactly as they do for the user; hooks are *not* skipped;
* commits with ``git commit --only -- <our paths>``: git builds the commit from a
  temporary index holding HEAD plus our paths, so the user's staged files stay staged
  and their unstaged edits stay unstaged;
* passes every path as a ``:(literal)`` pathspec, because locsync's paths contain glob
  characters (``locales/[locale].json``) that git would otherwise expand;
* puts the index entries of our paths back as they were when a commit fails (say a
  pre-commit hook rejects it), so the user's next ``git commit`` does not sweep our
  half-done files in;
* retries while another process holds a ``*.lock`` file (``index.lock``, ``HEAD.lock``),
  with the configured delays, and never deletes a lock (stale locks are another
  component's decision, see reliability.md §3.4);
* never pushes, never forces, and raises :class:`~daemon.errors.GitError` for every
  failure, so the daemon logs it and keeps running.

Create one :class:`GitRepo` per repository: its calls are serialized behind one asyncio
lock, so two commits of ours never race each other for ``index.lock``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import structlog

from daemon.errors import GitError

__all__ = ["CommitRequest", "GitRepo", "GitSettings"]

log = structlog.get_logger("locsync.git")

Sleep = Callable[[float], Awaitable[object]]

#: How many trailing stderr lines a GitError carries: enough for a hook's complaint,
#: short enough for one log event.
STDERR_TAIL_LINES = 20

#: From this many paths on, ``git add`` streams the new blobs into one pack file instead
#: of one loose object file each (see ``_add_args``).
BULK_ADD_MIN_PATHS = 32

# Both index.lock ("fatal: Unable to create '…/index.lock': File exists.") and ref
# locks ("cannot lock ref 'HEAD': Unable to create '…/HEAD.lock': File exists.").
_LOCK_HELD = re.compile(r"Unable to create '(?P<path>[^']+\.lock)': File exists")
_NO_WORK_TREE = ("not a git repository", "must be run in a work tree")
_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")

# Variables that point git at some other repository or index (a daemon started from a
# git hook inherits them) or change how pathspecs are read; none may leak into our calls.
_FOREIGN_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_LITERAL_PATHSPECS",
        "GIT_GLOB_PATHSPECS",
        "GIT_NOGLOB_PATHSPECS",
        "GIT_ICASE_PATHSPECS",
    }
)


@dataclass(frozen=True)
class CommitRequest:
    """One commit: the repo-relative paths locsync wrote, and the message parts.

    Validated on construction, because a malformed request is a bug in locsync, not a
    git failure: ``ValueError`` is raised for an absolute or ``..`` path, a blank
    subject, or a trailer that git would not parse back as a trailer. A multi-line
    subject (a user's message template may produce one) is accepted: its first line
    becomes the subject and the rest opens the body.
    """

    paths: tuple[str, ...]
    subject: str
    body: str = ""
    trailers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for path in self.paths:
            pure = PurePosixPath(path)
            if not path or "\0" in path or pure.is_absolute() or ".." in pure.parts:
                raise ValueError(f"not a repo-relative path: {path!r}")
        if not self.subject.strip():
            raise ValueError("the subject is blank")
        for key, value in self.trailers:
            if not _TRAILER_KEY.fullmatch(key):
                raise ValueError(f"invalid trailer key: {key!r}")
            if "\n" in value or "\r" in value:
                raise ValueError(f"trailer {key} must be one line: {value!r}")


@dataclass(frozen=True)
class GitSettings:
    """Identity and policy for locsync's commits.

    ``lock_retry_delays`` are the seconds to wait before each retry while another
    process holds a git lock; when they run out the command fails with ``GitError``.
    """

    author_name: str = "locsync"
    author_email: str = "locsync@localhost"
    skip_ci: bool = False
    lock_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1, 2, 5)


class _LockHeld(GitError):
    """Another process kept a git lock through every retry; git changed nothing."""


@dataclass(frozen=True)
class _Result:
    returncode: int
    stdout: bytes
    stderr: str


class GitRepo:
    """A user's work tree that locsync commits into. See the module docstring."""

    def __init__(self, root: Path, settings: GitSettings, *, sleep: Sleep = asyncio.sleep) -> None:
        self.root = root
        self.settings = settings
        self._sleep = sleep
        self._lock = asyncio.Lock()

    @staticmethod
    async def find(path: Path) -> Path | None:
        """Return the root of the work tree containing ``path``, or None if there is none.

        ``path`` may be a file or may not exist yet (a target locsync is about to write).
        Being outside any repository, or inside ``.git`` or a bare one, gives None; any
        other failure (such as git's "dubious ownership" refusal) raises ``GitError``,
        since it needs the operator's attention.
        """
        start = path
        while not start.is_dir() and start != start.parent:
            start = start.parent
        args = ("rev-parse", "--show-toplevel")
        result = await _exec(start, args, read_only=True)
        if result.returncode == 0:
            return Path(os.fsdecode(result.stdout.rstrip(b"\n")))
        if any(marker in result.stderr for marker in _NO_WORK_TREE):
            return None
        raise _failure(args, result)

    @staticmethod
    async def is_repo(path: Path) -> bool:
        """Whether ``path`` lies inside a git work tree."""
        return await GitRepo.find(path) is not None

    async def head(self) -> str | None:
        """The commit HEAD points at, or None on an unborn branch (no commits yet)."""
        result = await _exec(self.root, ("rev-parse", "-q", "--verify", "HEAD^{commit}"), read_only=True)
        if result.returncode == 0:
            return result.stdout.decode().strip()
        if result.returncode == 1 and not result.stderr.strip():
            return None
        raise _failure(("rev-parse", "-q", "--verify", "HEAD^{commit}"), result)

    async def commit(self, request: CommitRequest) -> str | None:
        """Commit the current content of ``request.paths``; return the new commit's sha.

        Returns None, creating no commit, when none of the paths differs from HEAD.
        Deleted paths are committed as deletions and untracked ones are added. Nothing
        else in the repository is touched: other staged files stay staged, unstaged
        edits stay unstaged. On failure the index entries of our paths are restored and
        ``GitError`` is raised; the working tree is never modified.
        """
        async with self._lock:
            return await self._commit(request)

    async def _commit(self, request: CommitRequest) -> str | None:
        paths = list(dict.fromkeys(request.paths))
        if not paths:
            return None
        snapshot = await self._run(("ls-files", "--stage", "-z", "--", *_literal(paths)), read_only=True)
        indexed = {entry.split(b"\t", 1)[1] for entry in snapshot.stdout.split(b"\0") if entry}
        # A path that is neither on disk nor in the index has nothing to stage (a file
        # never committed and already gone); `git add` would reject its pathspec.
        on_disk = await asyncio.to_thread(lambda: {p for p in paths if os.path.lexists(self.root / p)})
        present = [p for p in paths if p in on_disk or os.fsencode(p) in indexed]
        if not present:
            return None
        staged = False
        try:
            # Inside the try: given an ignored path, `git add` fails yet stages the others.
            await self._run(_add_args(present))
            staged = True
            changed = await self._staged_changes(paths)
            if not changed:
                # Our paths now match HEAD in index and work tree: a clean state, and
                # what any later commit would have produced, so nothing to restore.
                return None
            await self._run(
                ("commit", "--only", "-q", "--cleanup=whitespace", "-F", "-", "--", *_literal(changed)),
                stdin=_message(request, self.settings).encode(),
                env=self._identity(),
            )
        except BaseException as exc:
            # An add that never got the index lock changed nothing; restoring would only
            # wait out the same lock a second time.
            if staged or not isinstance(exc, _LockHeld):
                await self._restore_index(paths, snapshot.stdout, exc)
            raise
        return await self._committed_head()  # the caller logs the outcome with its own context

    async def _committed_head(self) -> str:
        """The new commit's sha, warning when it landed on a detached HEAD (on no branch).

        One ``rev-parse`` answers both (``--symbolic-full-name HEAD`` prints ``HEAD`` itself
        when detached), instead of a ``symbolic-ref`` before the commit and a ``rev-parse``
        after it: each git process costs a few milliseconds of the commit's latency.
        """
        args = ("rev-parse", "HEAD^{commit}", "--symbolic-full-name", "HEAD")
        result = await _exec(self.root, args, read_only=True)
        lines = result.stdout.decode().split()
        if result.returncode != 0 or not lines:  # pragma: no cover - git reported success without a commit
            raise GitError(_render(args), _tail(result.stderr) or "HEAD is unborn after a successful commit")
        sha, ref = lines[0], lines[1] if len(lines) > 1 else "HEAD"
        if ref == "HEAD":
            log.warning("git_detached_head", root=str(self.root), head=sha)
        return sha

    async def _staged_changes(self, paths: Sequence[str]) -> list[str]:
        """Our paths whose index entry differs from HEAD (or exists, on an unborn branch).

        ``--no-renames`` because with rename detection a rename lists only the new name,
        and the old one's deletion would be left out of the commit.
        """
        args = ("diff", "--cached", "--name-only", "--no-renames", "-z", "--", *_literal(paths))
        result = await self._run(args, read_only=True)
        return [os.fsdecode(p) for p in result.stdout.split(b"\0") if p]

    async def _restore_index(self, paths: Sequence[str], snapshot: bytes, cause: BaseException) -> None:
        """Put our paths' index entries back as ``git ls-files --stage`` saw them.

        A failure here is logged rather than raised, so the caller sees the original error.
        """
        try:
            # update-index takes plain paths, not pathspecs; removing unknown ones is a no-op.
            await self._run(("update-index", "--force-remove", "--", *paths))
            if snapshot:
                await self._run(("update-index", "-z", "--index-info"), stdin=snapshot)
        except GitError as exc:
            log.error(
                "git_index_restore_failed",
                root=str(self.root),
                command=exc.command,
                stderr=exc.stderr_tail,
                cause=type(cause).__name__,
            )

    def _identity(self) -> dict[str, str]:
        """Author and committer both locsync: the repo's user.name is the human's, not ours."""
        name, email = self.settings.author_name, self.settings.author_email
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    async def _run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        read_only: bool = False,
    ) -> _Result:
        """Run git in the work tree, retrying while another process holds a git lock."""
        delays = iter(self.settings.lock_retry_delays)
        retries = 0
        while True:
            result = await _exec(self.root, args, stdin=stdin, env=env, read_only=read_only)
            if result.returncode == 0:
                return result
            held = _LOCK_HELD.search(result.stderr)
            if held is None:
                raise _failure(args, result)
            delay = next(delays, None)
            if delay is None:
                raise _LockHeld(
                    _render(args),
                    f"{held['path']} is held by another process (still there after {retries} retries)\n"
                    + _tail(result.stderr),
                )
            log.info("git_lock_held", root=str(self.root), lock=held["path"], retry_in=delay)
            await self._sleep(delay)
            retries += 1


def _literal(paths: Iterable[str]) -> list[str]:
    """Pathspecs that match exactly these paths: no globbing, no ``:`` magic."""
    return [f":(literal){p}" for p in paths]


def _message(request: CommitRequest, settings: GitSettings) -> str:
    """Subject, blank line, body, blank line, ``Key: value`` trailers.

    The trailers form the last paragraph on their own, which is what git (``%(trailers)``,
    ``interpret-trailers``) and forges parse as trailers.
    """
    subject, _, rest = request.subject.strip().replace("\r\n", "\n").partition("\n")
    subject = subject.strip()
    if settings.skip_ci and "[skip ci]" not in subject:
        subject += " [skip ci]"
    paragraphs = [subject]
    body = "\n\n".join(part.strip("\n") for part in (rest, request.body) if part.strip())
    if body:
        paragraphs.append(body)
    if request.trailers:
        paragraphs.append("\n".join(f"{key}: {value.strip()}" for key, value in request.trailers))
    return "\n\n".join(paragraphs) + "\n"


def _environment(extra: Mapping[str, str] | None, *, read_only: bool) -> dict[str, str]:
    """The user's environment (git must find their config and credentials) made safe.

    No prompts (a daemon has no terminal), C locale (so we can recognise git's
    messages), and no variable that redirects git to another repository. Read-only
    calls also skip optional locks, so our ``status``/``diff`` never make the user's own
    git fail with "index.lock exists".
    """
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if read_only:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    if extra:
        env.update(extra)
    return env


async def _exec(
    cwd: Path,
    args: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    read_only: bool = False,
) -> _Result:
    """Run ``git <args>`` once in ``cwd``; never through a shell, never reading our stdin.

    If the awaiting task is cancelled, git gets SIGTERM rather than SIGKILL: it removes
    its lock files on signals, so a cancelled commit leaves no stale ``index.lock``.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            env=_environment(env, read_only=read_only),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise GitError(_render(args), f"could not start git: {exc}") from exc
    try:
        stdout, stderr = await proc.communicate(stdin)
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        raise
    assert proc.returncode is not None
    return _Result(proc.returncode, stdout, stderr.decode("utf-8", errors="replace"))


def _add_args(paths: Sequence[str]) -> tuple[str, ...]:
    """``git add -A`` of ``paths``; for a large batch, with every blob written into one pack.

    A loose object is a file of its own in a fan-out folder: creating 400 of them cost git
    0.35 s of kernel time in a cold sync here, more than all of locsync's own writes.
    ``core.bigFileThreshold=1`` (for this one call) sends every file over one byte through git's
    bulk check-in, which streams them into a single pack: 0.03 s. Files that git converts
    (``.gitattributes`` eol or filters such as LFS) still take git's usual path, so their
    blobs are the same either way. Small batches keep loose objects: a pack per commit would
    pile up and make ``git gc --auto`` repack the repository every 50 commits.
    """
    bulk = ("-c", "core.bigFileThreshold=1") if len(paths) >= BULK_ADD_MIN_PATHS else ()
    return (*bulk, "add", "-A", "--", *_literal(paths))


def _failure(args: Sequence[str], result: _Result) -> GitError:
    return GitError(_render(args), _tail(result.stderr) or f"exit status {result.returncode}")


def _tail(stderr: str) -> str:
    return "\n".join(stderr.rstrip().splitlines()[-STDERR_TAIL_LINES:])


def _render(args: Sequence[str], *, max_paths: int = 5) -> str:
    """The command for a log line: with hundreds of paths, name the first few only."""
    words = ["git", *args]
    cut = words.index("--") + 1 + max_paths if "--" in words else len(words)
    more = len(words) - cut
    return shlex.join(words[:cut]) + (f" … (+{more} more)" if more > 0 else "")
