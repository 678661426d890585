"""Small filesystems a test mounts to make a disk full or read-only for real.

A ``tmpfs`` of a few megabytes is mounted on a directory of the test's own; filling it makes
every write fail with ``ENOSPC`` as a full disk does, and remounting it read-only makes
them fail with ``EROFS``. Mounting needs root (or the capability); where it is refused the
test is skipped, saying so.
"""

import contextlib
import errno
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from missionctl.db import Database

CHUNK = 64 * 1024


@contextlib.contextmanager
def small_filesystem(where: Path, size_mb: int) -> Iterator[Path]:
    """A ``size_mb`` MB tmpfs mounted on ``where`` (made if missing), unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(where: Path) -> Path:
    """Write a file under ``where`` until its filesystem has no space left; return the file."""
    filler = where / "filler"
    block = b"\0" * CHUNK
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    # A smaller remainder than one chunk may be left: take it byte by byte, a page at a time.
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 512)
    return filler


def remount_read_only(where: Path) -> None:
    """Make the filesystem mounted on ``where`` read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True, capture_output=True)


def free_bytes(where: Path) -> int:
    """The bytes a non-root user could still write on ``where``'s filesystem."""
    stats = os.statvfs(where)
    return stats.f_bavail * stats.f_frsize


def broken_database(where: Path) -> "Database":
    """A SQLite database whose directory was removed once it was set up.

    What a server meets when the volume under its database goes away: every new connection
    fails with "unable to open database file".
    """
    from missionctl.db import Database

    directory = where / "volume-that-goes-away"
    directory.mkdir(parents=True)
    database = Database(f"sqlite+aiosqlite:///{directory / 'secret-name.db'}")
    shutil.rmtree(directory)
    return database


@contextlib.contextmanager
def endless_fifo(path: Path, block: bytes) -> Iterator[Path]:
    """A FIFO at ``path`` whose writer writes ``block`` until its reader goes away.

    On leaving, the writer must have stopped: a reader that never stops reading fails the test.
    """
    os.mkfifo(path)

    def write() -> None:
        # Unbuffered: closing it flushes nothing, so the reader's leaving ends it quietly.
        try:
            with open(path, "wb", buffering=0) as pipe:  # waits for the reader
                while True:
                    pipe.write(block)
        except BrokenPipeError:
            return

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield path
    writer.join(timeout=30)
    assert not writer.is_alive(), "the reader never stopped reading"
