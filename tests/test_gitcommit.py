"""The git committer against real repositories: only our paths, locks, hooks, odd HEADs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from daemon.errors import GitError
from daemon.gitcommit import BULK_ADD_MIN_PATHS, CommitRequest, GitRepo, GitSettings

pytestmark = pytest.mark.anyio

DE = "locales/de.json"
EN = "locales/en.json"


def git(repo: Path, *args: str) -> str:
    """Run git as the test's "user" would; fail the test if git fails."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def lines(text: str) -> list[str]:
    return text.splitlines()


def request(*paths: str, subject: str = "Update translations") -> CommitRequest:
    return CommitRequest(paths=paths, subject=subject)


@pytest.fixture(autouse=True)
def isolated_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's ~/.gitconfig (signing, hooksPath, templates) out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def init(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Human User")
    git(path, "config", "user.email", "human@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


@pytest.fixture
def empty_repo(tmp_path: Path) -> Path:
    return init(tmp_path / "empty")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit: two locale files and a README."""
    root = init(tmp_path / "repo")
    write(root, EN, '{\n  "hello": "Hello",\n  "bye": "Bye"\n}\n')
    write(root, DE, '{\n  "hello": "Hallo",\n  "bye": "Tschuess"\n}\n')
    write(root, "README.md", "readme\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def committer(root: Path, **settings: object) -> GitRepo:
    return GitRepo(root, GitSettings(**settings))  # type: ignore[arg-type]


async def test_commits_only_our_paths_and_leaves_the_users_changes_alone(repo: Path) -> None:
    """The user's staged file stays staged, their unstaged edit stays unstaged."""
    write(repo, "staged.txt", "user staged\n")
    git(repo, "add", "staged.txt")
    write(repo, "README.md", "user edit, not staged\n")
    write(repo, DE, '{\n  "hello": "Hallo",\n  "bye": "Tschüss"\n}\n')
    before = git(repo, "rev-parse", "HEAD").strip()

    sha = await committer(repo).commit(request(DE))

    assert sha == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert lines(git(repo, "show", "--name-only", "--format=", "HEAD")) == [DE]
    assert lines(git(repo, "diff", "--cached", "--name-only")) == ["staged.txt"]
    assert lines(git(repo, "diff", "--name-only")) == ["README.md"]
    assert git(repo, "status", "--porcelain", "--", DE) == ""


async def test_the_commit_holds_exactly_the_changed_line(repo: Path) -> None:
    """One changed key gives a one-line diff: no reformatting, no line-ending churn."""
    write(repo, DE, '{\n  "hello": "Servus",\n  "bye": "Tschuess"\n}\n')

    await committer(repo).commit(request(DE))

    assert lines(git(repo, "show", "--numstat", "--format=", "HEAD")) == [f"1\t1\t{DE}"]
    diff = git(repo, "show", "--format=", "--unified=0", "HEAD")
    changed = [ln for ln in lines(diff) if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ['-  "hello": "Hallo",', '+  "hello": "Servus",']


async def test_nothing_to_commit_returns_none(repo: Path) -> None:
    """Paths identical to HEAD make no commit, even if other files are dirty."""
    write(repo, "README.md", "dirty\n")
    before = git(repo, "rev-parse", "HEAD").strip()

    assert await committer(repo).commit(request(DE, EN)) is None
    assert await committer(repo).commit(request()) is None

    assert git(repo, "rev-parse", "HEAD").strip() == before
    assert lines(git(repo, "diff", "--name-only")) == ["README.md"]


async def test_author_trailers_and_skip_ci_are_in_the_commit(repo: Path) -> None:
    """The identity is locsync's even though the repo config names the human."""
    write(repo, DE, "{}\n")
    req = CommitRequest(
        paths=(DE,),
        subject="Translate de",
        body="Job ljg_x finished.\n\n#42 stays: cleanup must not eat it.",
        trailers=(("Locsync-Group", "ljg_x"), ("Locsync-Document", "locales/[locale].json")),
    )

    await committer(repo, author_name="Loc Bot", author_email="bot@example.org", skip_ci=True).commit(req)

    log = git(repo, "log", "-1", "--format=%an%n%ae%n%cn%n%ce%n%B")
    assert lines(log) == [
        "Loc Bot",
        "bot@example.org",
        "Loc Bot",
        "bot@example.org",
        "Translate de [skip ci]",
        "",
        "Job ljg_x finished.",
        "",
        "#42 stays: cleanup must not eat it.",
        "",
        "Locsync-Group: ljg_x",
        "Locsync-Document: locales/[locale].json",
        "",
    ]
    # git itself parses them as trailers, so `git log --grep`/forges see them too
    parsed = git(repo, "log", "-1", "--format=%(trailers:key=Locsync-Group,valueonly)")
    assert parsed.strip() == "ljg_x"


async def test_trailers_directly_after_the_subject_still_parse(repo: Path) -> None:
    """Without a body the trailer block follows the subject and git still finds it."""
    write(repo, DE, "{}\n")
    req = CommitRequest(paths=(DE,), subject="Translate de", trailers=(("Locsync-Group", "ljg_y"),))

    await committer(repo).commit(req)

    assert git(repo, "log", "-1", "--format=%B") == "Translate de\n\nLocsync-Group: ljg_y\n\n"
    assert git(repo, "log", "-1", "--format=%(trailers:only,unfold)").strip() == "Locsync-Group: ljg_y"


async def test_a_multi_line_subject_splits_into_subject_and_body(repo: Path) -> None:
    """A user's message template may contain newlines; that must not stop commits."""
    write(repo, DE, "{}\n")
    req = CommitRequest(paths=(DE,), subject="Translate de\nfrom job x", body="details")

    await committer(repo, skip_ci=True).commit(req)

    assert git(repo, "log", "-1", "--format=%s") == "Translate de [skip ci]\n"
    assert git(repo, "log", "-1", "--format=%b") == "from job x\n\ndetails\n\n"


async def test_initial_commit_in_an_empty_repository(empty_repo: Path) -> None:
    """An unborn branch gets its first commit; a file the user staged stays staged."""
    write(empty_repo, DE, "{}\n")
    write(empty_repo, "mine.txt", "user\n")
    git(empty_repo, "add", "mine.txt")
    repo = committer(empty_repo)
    assert await repo.head() is None

    sha = await repo.commit(request(DE))

    assert sha is not None
    assert sha == await repo.head()
    assert lines(git(empty_repo, "ls-tree", "-r", "--name-only", "HEAD")) == [DE]
    assert lines(git(empty_repo, "diff", "--cached", "--name-only")) == ["mine.txt"]
    assert git(empty_repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"


async def test_untracked_files_are_added(repo: Path) -> None:
    write(repo, "locales/fr.json", "{}\n")
    write(repo, "locales/it.json", "{}\n")  # untracked but not ours: stays untracked

    await committer(repo).commit(request("locales/fr.json"))

    assert lines(git(repo, "show", "--name-status", "--format=", "HEAD")) == ["A\tlocales/fr.json"]
    assert lines(git(repo, "ls-files", "--others")) == ["locales/it.json"]


def object_counts(repo: Path) -> tuple[int, int]:
    """(loose objects, pack files) in the repository's object store."""
    counts = dict(line.split(": ") for line in lines(git(repo, "count-objects", "-v")))
    return int(counts["count"]), int(counts["packs"])


async def test_a_large_batch_is_added_as_one_pack_and_a_small_one_as_loose_objects(repo: Path) -> None:
    """A cold sync's hundreds of files cost git one pack, not a file per blob; same blobs either way."""
    many = [f"locales/de/part{n:03d}.json" for n in range(BULK_ADD_MIN_PATHS + 8)]
    for n, rel in enumerate(many):
        write(repo, rel, f'{{\n  "key": "Wert {n}"\n}}\n')
    write(repo, ".gitattributes", "*.crlf text\n")  # a converted file keeps git's usual path
    write(repo, "locales/de/windows.crlf", "zeile 1\r\nzeile 2\r\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    loose, packs = object_counts(repo)

    await committer(repo).commit(request(*many, "locales/de/windows.crlf"))

    new_loose, new_packs = object_counts(repo)
    assert new_packs == packs + 1
    # the commit and its trees are loose objects as always; none of the 40 blobs is
    assert new_loose - loose < len(many)
    assert git(repo, "status", "--porcelain") == ""
    for rel in many:
        assert git(repo, "rev-parse", f"HEAD:{rel}").strip() == git(repo, "hash-object", rel).strip()
    assert git(repo, "cat-file", "-p", "HEAD:locales/de/windows.crlf") == "zeile 1\nzeile 2\n"
    git(repo, "fsck", "--strict")

    write(repo, DE, '{\n  "hello": "Servus"\n}\n')
    await committer(repo).commit(request(DE))

    assert object_counts(repo)[1] == new_packs  # a small batch adds no pack
    assert git(repo, "show", "HEAD:" + DE) == '{\n  "hello": "Servus"\n}\n'


async def test_a_deleted_file_is_committed_as_a_deletion(repo: Path) -> None:
    (repo / DE).unlink()
    write(repo, "locales/fr.json", "{}\n")

    await committer(repo).commit(request(DE, "locales/fr.json"))

    assert sorted(lines(git(repo, "show", "--name-status", "--format=", "HEAD"))) == [
        "A\tlocales/fr.json",
        f"D\t{DE}",
    ]
    assert git(repo, "status", "--porcelain") == ""


async def test_a_rename_commits_both_the_deletion_and_the_addition(repo: Path) -> None:
    """Rename detection must not hide the old name from the commit."""
    (repo / DE).rename(repo / "locales/de-DE.json")

    await committer(repo).commit(request(DE, "locales/de-DE.json"))

    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "ls-tree", "--name-only", "HEAD", "locales/").split() == [
        "locales/de-DE.json",
        EN,
    ]


async def test_a_path_that_never_existed_is_skipped(repo: Path) -> None:
    """A target written and removed before it was ever committed has nothing to commit."""
    assert await committer(repo).commit(request("locales/gone.json")) is None

    write(repo, DE, "{}\n")
    assert await committer(repo).commit(request("locales/gone.json", DE)) is not None
    assert lines(git(repo, "show", "--name-only", "--format=", "HEAD")) == [DE]


async def test_glob_and_magic_characters_in_paths_are_taken_literally(repo: Path) -> None:
    """`[locale]` is a glob class and a leading `:` is pathspec magic; neither may widen the commit."""
    write(repo, "locales/l.json", "{}\n")  # matches the glob locales/[locale].json
    write(repo, "locales/[locale].json", "{}\n")
    write(repo, ":weird", "x\n")

    await committer(repo).commit(request("locales/[locale].json", ":weird"))

    assert sorted(lines(git(repo, "show", "--name-only", "--format=", "HEAD"))) == [
        ":weird",
        "locales/[locale].json",
    ]
    assert lines(git(repo, "ls-files", "--others")) == ["locales/l.json"]


async def test_a_held_index_lock_is_waited_out(repo: Path) -> None:
    """The lock goes away after the second retry: the commit succeeds, the lock is not ours to delete."""
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)
        if len(slept) == 2:
            lock.unlink()

    write(repo, DE, "{}\n")
    repo_ = GitRepo(repo, GitSettings(lock_retry_delays=(0.05, 0.1, 0.2)), sleep=fake_sleep)

    assert await repo_.commit(request(DE)) is not None
    assert slept == [0.05, 0.1]
    assert lines(git(repo, "show", "--name-only", "--format=", "HEAD")) == [DE]


@pytest.mark.parametrize("lock_name", ["index.lock", "refs/heads/main.lock"])
async def test_a_lock_held_forever_raises_after_the_configured_delays(repo: Path, lock_name: str) -> None:
    """Every delay is slept through the injected sleep; the error names the lock; the lock survives."""
    lock = repo / ".git" / lock_name
    lock.write_text("")
    git(repo, "config", "core.filesRefLockTimeout", "0")  # git's own ref-lock wait would cost ~1 s
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    write(repo, DE, "{}\n")
    head = git(repo, "rev-parse", "HEAD")
    delays = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)

    with pytest.raises(GitError) as caught:
        await GitRepo(repo, GitSettings(lock_retry_delays=delays), sleep=fake_sleep).commit(request(DE))

    assert slept == list(delays)
    assert lock_name in caught.value.stderr_tail
    assert "held by another process" in str(caught.value)
    assert lock.exists()
    assert git(repo, "rev-parse", "HEAD") == head


async def test_a_detached_head_still_commits_and_warns(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD")
    write(repo, DE, "{}\n")

    with capture_logs() as logs:
        sha = await committer(repo).commit(request(DE))

    assert sha == git(repo, "rev-parse", "HEAD").strip()
    warnings = [e for e in logs if e["event"] == "git_detached_head"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"


async def test_a_failing_pre_commit_hook_raises_and_restores_the_index(repo: Path) -> None:
    """The hook's complaint reaches the error; staged state is exactly what it was."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text('#!/bin/sh\necho "lint: locales/de.json is not sorted" >&2\nexit 1\n')
    hook.chmod(0o755)
    write(repo, "staged.txt", "user staged\n")
    git(repo, "add", "staged.txt")
    write(repo, EN, "user's staged en\n")  # the user staged a version of one of our paths
    git(repo, "add", EN)
    write(repo, EN, "{}\n")
    write(repo, DE, "{}\n")
    write(repo, "locales/fr.json", "{}\n")
    head = git(repo, "rev-parse", "HEAD")
    index_before = git(repo, "ls-files", "--stage")

    with pytest.raises(GitError) as caught:
        await committer(repo).commit(request(EN, DE, "locales/fr.json"))

    assert "lint: locales/de.json is not sorted" in caught.value.stderr_tail
    assert caught.value.command.startswith("git commit --only")
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "ls-files", "--stage") == index_before
    assert sorted(lines(git(repo, "diff", "--cached", "--name-only"))) == [EN, "staged.txt"]
    assert (repo / DE).read_text() == "{}\n"  # the work tree is never touched


async def test_an_ignored_path_fails_without_staging_the_others(repo: Path) -> None:
    """`git add` stages the rest before failing on an ignored path; we undo that."""
    write(repo, ".gitignore", "*.bak\n")
    write(repo, DE, "{}\n")
    write(repo, "locales/de.json.bak", "{}\n")

    with pytest.raises(GitError, match="ignored"):
        await committer(repo).commit(request(DE, "locales/de.json.bak"))

    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert lines(git(repo, "diff", "--name-only")) == [DE]


async def test_hooks_run_and_can_see_our_commit(repo: Path) -> None:
    """No --no-verify: the user's hook runs for our commit (from the work tree root) as for theirs."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\ngit diff --cached --name-only > hook-saw\n")
    hook.chmod(0o755)
    (repo / ".git" / "info" / "exclude").write_text("hook-saw\n")
    write(repo, DE, "{}\n")

    await committer(repo).commit(request(DE))

    assert lines((repo / "hook-saw").read_text()) == [DE]


async def test_find_returns_the_work_tree_root_or_none(repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    root = Path(git(repo, "rev-parse", "--show-toplevel").strip())

    assert await GitRepo.find(repo / DE) == root
    assert await GitRepo.find(repo / "locales" / "not-yet" / "xx.json") == root
    assert await GitRepo.find(plain) is None
    assert await GitRepo.find(repo / ".git") is None
    assert await GitRepo.is_repo(repo)
    assert not await GitRepo.is_repo(plain / "missing.json")


async def test_head_is_none_on_an_unborn_branch(empty_repo: Path, repo: Path) -> None:
    assert await committer(empty_repo).head() is None
    assert await committer(repo).head() == git(repo, "rev-parse", "HEAD").strip()


async def test_a_missing_git_binary_is_a_git_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, DE, "{}\n")
    monkeypatch.setenv("PATH", str(repo / "no-bin-here"))

    with pytest.raises(GitError, match="could not start git"):
        await committer(repo).commit(request(DE))


async def test_a_non_repository_root_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        await committer(tmp_path).commit(request(DE))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"paths": ("/etc/passwd",), "subject": "s"},
        {"paths": ("../outside.json",), "subject": "s"},
        {"paths": ("",), "subject": "s"},
        {"paths": (DE,), "subject": "  "},
        {"paths": (DE,), "subject": "s", "trailers": (("Bad Key", "v"),)},
        {"paths": (DE,), "subject": "s", "trailers": (("Key", "multi\nline"),)},
    ],
)
def test_malformed_requests_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CommitRequest(**kwargs)  # type: ignore[arg-type]
