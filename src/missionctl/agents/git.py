"""Git for coding steps: repositories, per-step worktrees, diffs and merges (ADR 0067).

A coding step works in a ``git worktree`` of its mission's repository, on a branch of its own
made from the mission's base; the repository is a local path (used in place) or a clone URL
(cloned once, bare, under ``MISSIONCTL_HOME/repositories``). Mission Control runs git itself,
outside the step's sandbox, never through a shell, and always with hooks, the filesystem
monitor and automatic garbage collection turned off: a program that ran in the worktree may have
planted a hook or a config entry, and none of them may run as the server's user.

Worktrees of one repository are added and removed, branches deleted and the base branch moved
under one lock per repository (:func:`repository_lock`): an ``asyncio`` lock inside the process
and an ``flock`` on ``<git dir>/missionctl.lock`` between processes, because git refuses rather
than waits when it finds another's lock file on its shared state (``worktrees/``,
``packed-refs``). Commits inside a worktree need no lock: each writes its own index and branch.
"""

import asyncio
import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from missionctl.agents.base import AgentError
from missionctl.domain.coding import is_branch_name, is_repository_source

GIT_TIMEOUT_S = 600.0
LOCK_POLL_S = 0.02
COMMITTER_NAME = "Mission Control"
COMMITTER_EMAIL = "missionctl@localhost"
# Settings that keep what a step wrote from running as the server's user, and keep git from
# packing or pruning on its own while other steps work in the same repository.
_SAFE_CONFIG = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "gc.auto=0",
    "-c", "maintenance.auto=false",
    "-c", "protocol.ext.allow=never",
    "-c", "core.quotePath=false",
)  # fmt: skip
_locks: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True, slots=True)
class GitResult:
    """What one git command did."""

    code: int
    out: str
    err: str


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository coding steps work on: where to run git, and its shared git directory."""

    source: str
    path: Path
    git_dir: Path


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file a diff touches: its path, git's status letter, and lines added and removed."""

    path: str
    status: str
    insertions: int
    deletions: int


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """A merge's result: the new commit of the base branch, or the files that conflict."""

    commit: str | None
    conflicts: tuple[str, ...] = ()


async def git(
    *args: str, cwd: Path, check: bool = True, timeout_s: float = GIT_TIMEOUT_S
) -> GitResult:
    """Run ``git args`` in ``cwd`` with the safe settings; never through a shell.

    Raises:
        AgentError: (not retryable) git failed and ``check`` is set, or it is not installed;
            (retryable) it ran longer than ``timeout_s``.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "LANG": "C.UTF-8",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": COMMITTER_NAME,
        "GIT_AUTHOR_EMAIL": COMMITTER_EMAIL,
        "GIT_COMMITTER_NAME": COMMITTER_NAME,
        "GIT_COMMITTER_EMAIL": COMMITTER_EMAIL,
    }
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *_SAFE_CONFIG,
            *args,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise AgentError(f"cannot run git: {exc}", retryable=False) from exc
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise AgentError(f"git {args[0]} took longer than {timeout_s:.0f} s") from None
    result = GitResult(
        process.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    )
    if check and result.code != 0:
        said = result.err.strip() or result.out.strip() or f"exit code {result.code}"
        raise AgentError(f"git {args[0]} failed: {said}", retryable=False)
    return result


@contextlib.asynccontextmanager
async def repository_lock(repo: Repository) -> AsyncIterator[None]:
    """Hold ``repo``'s lock: against this process's other steps, then against other processes.

    Returns (enters) when both are held; on cancellation while waiting, holds nothing.
    """
    key = str(repo.git_dir)
    local = _locks.setdefault(key, asyncio.Lock())
    async with local:
        handle = os.open(repo.git_dir / "missionctl.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(LOCK_POLL_S)
            yield
        finally:
            os.close(handle)  # closing releases the flock


class RepositoryStore:
    """Opens repositories by source: local paths in place, clone URLs cloned under ``root``."""

    def __init__(self, root: Path) -> None:
        """``root``: where clones of URLs are kept (``MISSIONCTL_HOME/repositories``)."""
        self.root = root

    async def open(self, source: str) -> Repository:
        """The repository ``source`` names, cloned or fetched first when it is a URL.

        Raises:
            AgentError: (not retryable) not a path or URL git accepts, not a repository, or
                the clone failed (the message says git's reason).
        """
        if not is_repository_source(source):
            raise AgentError(
                f"repository {source!r} is neither an absolute path nor a clone URL "
                "(https://, ssh://, git://, file:// or user@host:path)",
                retryable=False,
            )
        path = Path(source) if source.startswith("/") else await self._clone(source)
        if not path.is_dir():
            raise AgentError(f"repository {source!r}: no such directory here", retryable=False)
        found = await git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=path)
        repo = Repository(source=source, path=path, git_dir=Path(found.out.strip()))
        await git("worktree", "prune", cwd=path)  # forget worktrees a crash left behind
        return repo

    async def _clone(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        target = self.root / f"{digest}.git"
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.is_dir():
            # Fast-forwards only: a base branch this clone has merged into is never reset.
            await git("fetch", "--quiet", "origin", "refs/heads/*:refs/heads/*", cwd=target,
                      check=False)  # fmt: skip
            return target
        partial = self.root / f".{digest}.cloning-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        await git("clone", "--bare", "--quiet", "--", url, str(partial), cwd=self.root)
        with contextlib.suppress(OSError):  # another process cloned it first: use theirs
            partial.rename(target)
        shutil.rmtree(partial, ignore_errors=True)
        return target


async def resolve_commit(repo: Repository, ref: str) -> str:
    """The commit ``ref`` (a branch name) points to.

    Raises:
        AgentError: (not retryable) not a valid name, or no such branch.
    """
    if not is_branch_name(ref):
        raise AgentError(f"{ref!r} is not a branch name", retryable=False)
    found = await git("rev-parse", "--verify", "--quiet", f"refs/heads/{ref}^{{commit}}",
                      cwd=repo.path, check=False)  # fmt: skip
    if found.code != 0:
        raise AgentError(f"the repository has no branch {ref!r}", retryable=False)
    return found.out.strip()


async def add_worktree(repo: Repository, *, path: Path, branch: str, commit: str) -> None:
    """Check ``commit`` out at ``path`` on ``branch`` (made, or reset when it exists)."""
    async with repository_lock(repo):
        await git("worktree", "add", "--quiet", "-B", branch, str(path), commit, cwd=repo.path)


async def remove_worktree(repo: Repository, path: Path) -> None:
    """Remove the worktree at ``path`` and git's record of it; its branch stays."""
    async with repository_lock(repo):
        removed = await git("worktree", "remove", "--force", "--force", str(path),
                            cwd=repo.path, check=False)  # fmt: skip
        if removed.code != 0:  # a program made it hard to delete: take it away ourselves
            await asyncio.to_thread(shutil.rmtree, path, True)
            await git("worktree", "prune", cwd=repo.path)


async def commit_all(worktree: Path, message: str) -> str:
    """Commit everything changed in ``worktree`` (nothing: no commit); return its HEAD."""
    await git("add", "--all", cwd=worktree)
    staged = await git("diff", "--cached", "--quiet", cwd=worktree, check=False)
    if staged.code != 0:
        await git("commit", "--quiet", "--no-verify", "-m", message, cwd=worktree)
    return (await git("rev-parse", "HEAD", cwd=worktree)).out.strip()


async def diff(repo: Repository, base: str, head: str) -> tuple[str, list[FileChange]]:
    """The unified diff from ``base`` to ``head`` and the files it touches, with line counts.

    Binary files count 0 lines either way; renames are found and listed under the new path.
    """
    patch = await git("diff", "--no-color", "--no-ext-diff", "--find-renames", base, head,
                      cwd=repo.path)  # fmt: skip
    statuses = await git("diff", "--name-status", "--find-renames", "-z", base, head,
                         cwd=repo.path)  # fmt: skip
    counts = await git("diff", "--numstat", "--find-renames", "-z", base, head, cwd=repo.path)
    return patch.out, _changes(statuses.out, counts.out)


def _changes(name_status: str, numstat: str) -> list[FileChange]:
    """Join ``--name-status -z`` and ``--numstat -z`` output by path."""
    fields = name_status.split("\0")
    status_of: dict[str, str] = {}
    index = 0
    while index < len(fields) - 1:
        letter = fields[index][:1]
        take = 2 if letter in "RC" else 1  # a rename names the old path, then the new one
        status_of[fields[index + take]] = letter
        index += take + 1
    lines: dict[str, tuple[int, int]] = {}
    parts = numstat.split("\0")
    index = 0
    while index < len(parts) - 1:
        added, removed, path = [*parts[index].split("\t"), "", "", ""][:3]
        if not path:  # a rename: the two paths follow as their own fields
            path, index = parts[index + 2], index + 3
        else:
            index += 1
        lines[path] = (_count(added), _count(removed))
    return [
        FileChange(path, status, *lines.get(path, (0, 0))) for path, status in status_of.items()
    ]


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0  # "-" for a binary file


async def merge(repo: Repository, *, base: str, branch: str, message: str) -> MergeOutcome:
    """Merge ``branch`` into ``base`` without touching any work tree, unless it must.

    The merge is computed by ``git merge-tree``: a conflict changes nothing and names the
    files. A clean merge is committed and ``base`` moved to it: by a compare-and-swap of its
    ref, or, where ``base`` is checked out in a worktree, by a fast-forward there (which keeps
    that worktree's files true and refuses to overwrite changes in it). The merged branch is
    then deleted. Runs under the repository's lock.

    Raises:
        AgentError: (not retryable) ``base`` is checked out with uncommitted changes, or git
            failed; (retryable) ``base`` moved while merging.
    """
    async with repository_lock(repo):
        tip = await resolve_commit(repo, base)
        head = await resolve_commit(repo, branch)
        merged = await git("merge-tree", "--write-tree", "--name-only", "--no-messages",
                           tip, head, cwd=repo.path, check=False)  # fmt: skip
        lines = merged.out.splitlines()
        if merged.code == 1:
            return MergeOutcome(None, tuple(line for line in lines[1:] if line))
        if merged.code != 0 or not lines:
            raise AgentError(f"git merge-tree failed: {merged.err.strip()}", retryable=False)
        commit = await git("commit-tree", lines[0], "-p", tip, "-p", head, "-m", message,
                           cwd=repo.path)  # fmt: skip
        new = commit.out.strip()
        await _move_branch(repo, base, new=new, old=tip)
        await git("branch", "--quiet", "-D", branch, cwd=repo.path)
        return MergeOutcome(new)


async def _move_branch(repo: Repository, branch: str, *, new: str, old: str) -> None:
    checked_out = await _checkout_of(repo, branch)
    if checked_out is None:
        await git("update-ref", f"refs/heads/{branch}", new, old, cwd=repo.path)
        return
    dirty = await git("status", "--porcelain", "--untracked-files=no", cwd=checked_out)
    if dirty.out.strip():
        raise AgentError(
            f"branch {branch!r} is checked out in {checked_out.name}/ with uncommitted changes; "
            "commit or stash them there, then retry this step",
            retryable=False,
        )
    await git("merge", "--quiet", "--ff-only", new, cwd=checked_out)


async def _checkout_of(repo: Repository, branch: str) -> Path | None:
    """The worktree that has ``branch`` checked out, if any."""
    listing = await git("worktree", "list", "--porcelain", cwd=repo.path)
    path: Path | None = None
    for line in listing.out.splitlines():
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line == f"branch refs/heads/{branch}":
            return path
    return None
