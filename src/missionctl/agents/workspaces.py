"""Step workspaces on disk: where they are, and their removal when their run ends.

A step works in ``<root>/<run id>/<step id>`` (``root`` is ``MISSIONCTL_HOME/workspaces``);
the command agent creates it, private to the server's user. A program may write anything there,
a step secret included, and only what it writes under ``artifacts/`` is kept (redacted) in the
blob store: the directory itself is scratch. So a run's directory is removed when the run ends
(completed, failed, canceled or aborted) unless ``MISSIONCTL_KEEP_WORKSPACES`` keeps it for
debugging (ADR 28).

Removal first renames the run's directory to a hidden ``.removing-…`` name beside it, at once,
then deletes that: a step of the same run starting meanwhile (a failed run resumed) gets a
fresh directory instead of one being deleted under it, and a removal cut short (a crash) leaves
a name the next sweep recognises and finishes.
"""

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_TRASH_PREFIX = ".removing-"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_UP_DEPTH = 256  # directories opened up at most this deep (one descriptor per level)
# Run directories remembered by ``Workspaces.run_dir``: more than the runs an engine has steps
# of at once, so a busy run's path is joined once, not once per step.
_REMEMBERED_RUN_DIRS = 1024


class Workspaces:
    """The workspaces under one root directory."""

    def __init__(self, root: Path, *, keep: bool = False) -> None:
        """``keep``: never remove anything (``MISSIONCTL_KEEP_WORKSPACES``)."""
        self.root = root
        self.keep = keep
        self._run_dirs: dict[uuid.UUID, Path] = {}

    def run_dir(self, run_id: uuid.UUID) -> Path:
        """The directory that holds every step workspace of ``run_id``."""
        path = self._run_dirs.get(run_id)
        if path is None:
            if len(self._run_dirs) >= _REMEMBERED_RUN_DIRS:
                self._run_dirs.clear()
            path = self._run_dirs[run_id] = self.root / str(run_id)
        return path

    def present_runs(self) -> list[uuid.UUID]:
        """The runs that have a directory here now (an unreadable or missing root: none)."""
        try:
            names = [entry.name for entry in self.root.iterdir() if entry.is_dir()]
        except OSError:
            return []
        found = []
        for name in names:
            try:
                found.append(uuid.UUID(name))
            except ValueError:
                continue  # not a run's directory (a ``.removing-`` one, or someone's file)
        return found

    def detach(self, run_ids: Iterable[uuid.UUID]) -> list[Path]:
        """Rename the directories of ``run_ids`` out of the way; return what to delete.

        Fast (one rename each) and safe to call from the event loop. With ``keep`` it does
        nothing.
        """
        if self.keep:
            return []
        detached = []
        for run_id in run_ids:
            source = self.run_dir(run_id)
            target = self.root / f"{_TRASH_PREFIX}{run_id}-{uuid.uuid4().hex[:8]}"
            try:
                source.rename(target)
            except FileNotFoundError:
                continue  # no step of this run worked here
            except OSError:
                log.exception("could not remove the workspaces of run %s", run_id)
                continue
            detached.append(target)
        return detached

    def leftovers(self) -> list[Path]:
        """Directories detached but not deleted (a removal cut short by a crash)."""
        if self.keep:
            return []
        try:
            return [entry for entry in self.root.iterdir() if entry.name.startswith(_TRASH_PREFIX)]
        except OSError:
            return []

    @staticmethod
    def delete(paths: Iterable[Path]) -> None:
        """Delete detached directories, blocking (run it in a thread).

        Directories a program made unreadable or unwritable are opened up first (never
        through a symbolic link); failures are logged, and a later sweep tries again.
        """
        for path in paths:
            _open_up(path)
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():
                log.error("could not delete %s; it will be tried again", path)


def _open_up(top: Path) -> None:
    """Make every directory under ``top`` ours to list and empty (``chmod 000`` undone).

    Through descriptors only, never a path: each directory is opened relative to its parent
    with ``O_NOFOLLOW`` and changed with ``fchmod``, so a symbolic link a program left (or swaps
    in meanwhile) is never followed out of the workspace. Directories nested deeper than
    ``_OPEN_UP_DEPTH`` are left as they are (the removal then reports what it could not
    delete).
    """
    try:
        fd = os.open(top, _DIR_FLAGS)
    except OSError:
        return
    try:
        _open_up_below(fd, 1)
    finally:
        os.close(fd)


def _open_up_below(dir_fd: int, depth: int) -> None:
    try:
        with os.scandir(dir_fd) as listing:
            names = [e.name for e in listing if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for name in names:
        fd = _open_dir(dir_fd, name)
        if fd is None:
            continue
        try:
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o700)
            if depth < _OPEN_UP_DEPTH:
                _open_up_below(fd, depth + 1)
        finally:
            os.close(fd)


def _open_dir(dir_fd: int, name: str) -> int | None:
    """``name`` in ``dir_fd`` opened as a directory, never through a link; ``None`` if it cannot be.

    A directory its program made unreadable is first given back its owner's rights, through
    ``fchmodat`` without following a link (a link there is refused, not followed).
    """
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        pass
    except OSError:
        return None
    try:
        os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except (OSError, NotImplementedError):
        return None


__all__ = ["Workspaces"]
