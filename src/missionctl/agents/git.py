"""Git for coding steps: repositories, per-step worktrees, diffs and merges (ADR 0067).

A coding step works in a ``git worktree`` of its mission's repository, on a branch of its own
made from the mission's base; the repository is a local path (used in place) or a clone URL
(cloned once, bare, under ``MISSIONCTL_HOME/repositories``; its URL checked and its connection
pinned by ``agents.git_remote``). Mission Control runs git itself, outside the step's sandbox,
never through a shell, without the system's or the user's git configuration, without a pager,
and with hooks, the filesystem monitor, signing and automatic garbage collection turned off.

Git never discovers a repository in a step's worktree (ADR 0073): the program that ran there
could have planted one (a ``.git`` directory, or a ``gitdir:`` file naming a repository it made),
whose configuration names commands (filters, ``diff.external``, ``gpg.program``,
``core.sshCommand``) git would run as the server's user. :func:`add_worktree` records the
worktree's own git directory (``<git dir>/worktrees/<name>``, which no step can see or write)
and what its path and its ``.git`` entry are, before any program runs; every later command in
the worktree (:func:`in_worktree`) first checks that both are unchanged, then names that git
directory and work tree explicitly (``GIT_DIR``, ``GIT_WORK_TREE``). A worktree is removed by
Mission Control itself, without following a link.

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
import stat
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from missionctl.agents.base import AgentError
from missionctl.agents.git_remote import AddressPolicy, PinnedUrl, pin_clone_url
from missionctl.domain.coding import is_branch_name, is_repository_source

GIT_TIMEOUT_S = 600.0
LOCK_POLL_S = 0.02
COMMITTER_NAME = "Mission Control"
COMMITTER_EMAIL = "missionctl@localhost"
MAX_DOTGIT_BYTES = 4096  # a worktree's ``.git`` file is one ``gitdir:`` line
# Settings that keep what a step wrote from running as the server's user, and keep git from
# packing or pruning on its own while other steps work in the same repository.
_SAFE_CONFIG = (
    "--no-pager",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.pager=cat",
    "-c", "commit.gpgSign=false",
    "-c", "tag.gpgSign=false",
    "-c", "submodule.recurse=false",
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
class Worktree:
    """A step's worktree as :func:`add_worktree` made it, before any program ran there.

    ``git_dir`` is its own git directory (``<common git dir>/worktrees/<name>``); ``identity`` the
    device and inode of its directory, ``dotgit`` those of its ``.git`` file and
    ``dotgit_content`` that file's bytes.
    """

    path: Path
    git_dir: Path
    identity: tuple[int, int]
    dotgit: tuple[int, int]
    dotgit_content: bytes


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
    *args: str,
    cwd: Path,
    check: bool = True,
    timeout_s: float = GIT_TIMEOUT_S,
    config: Sequence[str] = (),
    explicit: Mapping[str, str] | None = None,
) -> GitResult:
    """Run ``git args`` in ``cwd`` with the safe settings; never through a shell.

    ``config`` are more ``-c`` options (a pinned clone's); ``explicit`` sets ``GIT_DIR`` and
    ``GIT_WORK_TREE`` (see :func:`in_worktree`). Git reads no system or global configuration.

    Raises:
        AgentError: (not retryable) git failed and ``check`` is set, or it is not installed;
            (retryable) it ran longer than ``timeout_s``.
    """
    env = {
        **(explicit or {}),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
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
            *config,
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

    def __init__(self, root: Path, policy: AddressPolicy | None = None) -> None:
        """``root``: where clones of URLs are kept (``MISSIONCTL_HOME/repositories``).

        ``policy``: where a clone may connect (default: public addresses only).
        """
        self.root = root
        self.policy = policy or AddressPolicy()

    async def open(self, source: str) -> Repository:
        """The repository ``source`` names, cloned or fetched first when it is a URL.

        Raises:
            AgentError: (not retryable) not a path or URL git accepts, a URL whose user or host
                is not plain or whose host leads to an address the server may not reach, not a
                repository, or the clone failed (the message says git's reason).
        """
        if source.startswith("/"):
            if not is_repository_source(source):
                raise AgentError(f"repository {source!r} is not a usable path", retryable=False)
            path = Path(source)
        else:
            pinned = await pin_clone_url(source, self.policy)  # names a bad user or host first
            if not is_repository_source(source):
                raise AgentError(
                    "repository: neither an absolute path nor a clone URL (https://, ssh://, "
                    "git://, file:// or user@host:path)",
                    retryable=False,
                )
            path = await self._clone(source, pinned)
        if not path.is_dir():
            raise AgentError(f"repository {source!r}: no such directory here", retryable=False)
        found = await git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=path)
        repo = Repository(source=source, path=path, git_dir=Path(found.out.strip()))
        await git("worktree", "prune", cwd=path)  # forget worktrees a crash left behind
        return repo

    async def _clone(self, url: str, pinned: PinnedUrl) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        target = self.root / f"{digest}.git"
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.is_dir():
            # Fast-forwards only: a base branch this clone has merged into is never reset.
            # From the pinned URL, not the remote's stored one: the name may lead elsewhere now.
            await git("fetch", "--quiet", "--", pinned.url, "refs/heads/*:refs/heads/*",
                      cwd=target, check=False, config=pinned.config)  # fmt: skip
            return target
        partial = self.root / f".{digest}.cloning-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        await git("clone", "--bare", "--quiet", "--", pinned.url, str(partial), cwd=self.root,
                  config=pinned.config)  # fmt: skip
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


async def add_worktree(repo: Repository, *, path: Path, branch: str, commit: str) -> Worktree:
    """Check ``commit`` out at ``path`` on ``branch`` (made, or reset when it exists).

    Whatever ``path`` holds first (a crashed attempt's worktree, or a link a program left) is
    removed without following a link. Returns the worktree as it is now, before any program ran
    in it (:class:`Worktree`).

    Raises:
        AgentError: (not retryable) git failed, or the new worktree is not what git makes.
    """
    async with repository_lock(repo):
        await asyncio.to_thread(remove_entry, path)
        await git("worktree", "prune", cwd=repo.path)  # forget the entry just removed
        await git("worktree", "add", "--quiet", "-B", branch, str(path), commit, cwd=repo.path)
    return await asyncio.to_thread(_identify, repo, path)


def _identify(repo: Repository, path: Path) -> Worktree:
    """Read what ``git worktree add`` made at ``path``: its own git directory, its identity."""
    where = os.lstat(path)
    dotgit_path = path / ".git"
    dotgit = os.lstat(dotgit_path)
    content = _read_dotgit(dotgit_path)
    text = content.decode("utf-8", "replace").strip()
    git_dir = Path(os.path.realpath(path / text.removeprefix("gitdir:").strip()))
    admin = Path(os.path.realpath(repo.git_dir)) / "worktrees"
    if not text.startswith("gitdir:") or git_dir.parent != admin:
        raise AgentError(
            f"git made a worktree at {path} whose .git does not name a directory under "
            f"{admin}; nothing ran in it",
            retryable=False,
        )
    return Worktree(
        path=path,
        git_dir=git_dir,
        identity=(where.st_dev, where.st_ino),
        dotgit=(dotgit.st_dev, dotgit.st_ino),
        dotgit_content=content,
    )


def _read_dotgit(path: Path) -> bytes:
    """The bytes of the ``.git`` file at ``path``, never through a link."""
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        return os.read(handle, MAX_DOTGIT_BYTES + 1)
    finally:
        os.close(handle)


def check_worktree(tree: Worktree) -> None:
    """Refuse to go on if a program moved, replaced or removed the worktree or its ``.git``.

    The worktree must still be the same real directory (not a link) and its ``.git`` the same
    regular file with the same content as :func:`add_worktree` found them.

    Raises:
        AgentError: (not retryable) something changed; the message names what.
    """
    try:
        where = os.lstat(tree.path)
    except OSError:
        where = None
    if (
        where is None
        or not stat.S_ISDIR(where.st_mode)
        or ((where.st_dev, where.st_ino) != tree.identity)
    ):
        raise AgentError(
            f"the step's worktree {tree.path.name}/ was moved, removed or replaced (by a link "
            "or another directory) while the step's program ran; Mission Control ran no git "
            "command there and committed nothing. A coding CLI must change files inside its "
            "worktree, never the worktree itself",
            retryable=False,
        )
    if not _dotgit_unchanged(tree):
        raise AgentError(
            f"the worktree's .git ({tree.path.name}/.git) was changed or removed while the "
            "step's program ran; git would have run the repository it names, so Mission "
            "Control ran no git command there and committed nothing. A coding CLI must leave "
            ".git alone",
            retryable=False,
        )


def _dotgit_unchanged(tree: Worktree) -> bool:
    path = tree.path / ".git"
    try:
        found = os.lstat(path)
        if not stat.S_ISREG(found.st_mode) or (found.st_dev, found.st_ino) != tree.dotgit:
            return False
        return _read_dotgit(path) == tree.dotgit_content
    except OSError:
        return False


async def in_worktree(tree: Worktree, *args: str, check: bool = True) -> GitResult:
    """Run ``git args`` in a step's worktree, naming its git directory and work tree.

    Checks the worktree first (:func:`check_worktree`): git never runs in a worktree a program
    replaced, and never discovers a repository there.

    Raises:
        AgentError: as :func:`check_worktree` and :func:`git`.
    """
    await asyncio.to_thread(check_worktree, tree)
    explicit = {"GIT_DIR": str(tree.git_dir), "GIT_WORK_TREE": str(tree.path)}
    return await git(*args, cwd=tree.path, check=check, explicit=explicit)


def remove_entry(path: Path) -> None:
    """Remove whatever is at ``path`` without following a link; nothing there is fine.

    A real directory is removed with ``shutil.rmtree``, which never follows a link inside it;
    a link (to anywhere) or a file is unlinked, so its target stays as it was.
    """
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(found.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


async def remove_worktree(repo: Repository, path: Path) -> None:
    """Remove the worktree at ``path`` and git's record of it; its branch stays.

    Mission Control removes the directory itself (:func:`remove_entry`: a link is unlinked, never
    followed), then git forgets the worktree; git never runs inside it.
    """
    async with repository_lock(repo):
        await asyncio.to_thread(remove_entry, path)
        await git("worktree", "prune", cwd=repo.path)


async def commit_all(tree: Worktree, message: str) -> str:
    """Commit everything changed in the worktree (nothing: no commit); return its HEAD.

    The commit is made by plumbing (``write-tree``, ``commit-tree``, ``update-ref``), which
    never looks into a repository nested in the worktree. Every command checks the worktree
    first (:func:`in_worktree`).

    Raises:
        AgentError: (not retryable) the worktree or its ``.git`` changed, or git failed.
    """
    await in_worktree(tree, "add", "--all")
    new_tree = (await in_worktree(tree, "write-tree")).out.strip()
    head = (await in_worktree(tree, "rev-parse", "--verify", "HEAD^{commit}")).out.strip()
    old_tree = (await in_worktree(tree, "rev-parse", "--verify", "HEAD^{tree}")).out.strip()
    if new_tree == old_tree:
        return head
    made = await in_worktree(tree, "commit-tree", new_tree, "-p", head, "-m", message)
    commit = made.out.strip()
    await in_worktree(tree, "update-ref", "-m", "missionctl: commit", "HEAD", commit, head)
    return commit


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
    explicit = await asyncio.to_thread(_explicit_dirs, repo, checked_out)
    dirty = await git("status", "--porcelain", "--untracked-files=no", "--ignore-submodules=all",
                      cwd=checked_out, explicit=explicit)  # fmt: skip
    if dirty.out.strip():
        raise AgentError(
            f"branch {branch!r} is checked out in {checked_out.name}/ with uncommitted changes; "
            "commit or stash them there, then retry this step",
            retryable=False,
        )
    await git("merge", "--quiet", "--ff-only", new, cwd=checked_out, explicit=explicit)


def _explicit_dirs(repo: Repository, worktree: Path) -> dict[str, str]:
    """``GIT_DIR`` and ``GIT_WORK_TREE`` for a worktree of ``repo``, found in its git directory.

    The git directory is the repository's own for its main worktree (the repository's path),
    else the one under ``worktrees/`` that records ``worktree``; a worktree that is a link is
    refused (it could lead git anywhere).

    Raises:
        AgentError: (not retryable) the worktree is a link, or its git directory is not found.
    """
    if os.path.islink(worktree) or not worktree.is_dir():
        raise AgentError(f"{worktree} is not a directory; nothing was merged", retryable=False)
    main_dir = os.path.realpath(repo.git_dir)
    if os.path.realpath(worktree) == os.path.realpath(repo.path):
        return {"GIT_DIR": main_dir, "GIT_WORK_TREE": str(worktree)}
    wanted = os.path.realpath(worktree / ".git")
    for admin in sorted((Path(main_dir) / "worktrees").glob("*")):
        with contextlib.suppress(OSError):
            recorded = (admin / "gitdir").read_text(encoding="utf-8").strip()
            if os.path.realpath(recorded) == wanted:
                return {"GIT_DIR": str(admin), "GIT_WORK_TREE": str(worktree)}
    raise AgentError(
        f"found no git directory for the worktree {worktree}; nothing was merged",
        retryable=False,
    )


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
