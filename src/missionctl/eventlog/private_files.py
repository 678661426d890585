"""Private files written whole: keys, checkpoints and the records beside them.

A reader never sees half a file: the bytes go to a scratch file beside the target (mode 0600,
synced to disk), which then takes the target's name in one ``rename``. Blocking: call these from
a thread in a server.
"""

import os
import uuid
from pathlib import Path


def write_new(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to a new file ``path`` with ``mode``, and sync it to disk.

    Raises:
        FileExistsError: ``path`` exists already (nothing is written).
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def scratch_beside(path: Path) -> Path:
    """A fresh hidden name in ``path``'s directory, for a file that will take ``path``'s name."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}")


def replace_file(path: Path, data: bytes) -> None:
    """Make ``path`` hold ``data`` (mode 0600), replacing what was there in one step.

    Of two processes replacing the same file at once, the last rename wins; either way the file
    holds one writer's bytes whole.
    """
    scratch = scratch_beside(path)
    write_new(scratch, data, mode=0o600)
    try:
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
