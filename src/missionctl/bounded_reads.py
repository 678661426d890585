"""Reads that stop at their limit while reading: files, standard input, pipes and devices.

A size limit checked once the input is in memory comes too late: ``/dev/zero``, a FIFO or a
pipe that never closes has no end to wait for, and reading it whole takes all the memory there
is. Every file and stream the product reads goes through :func:`read_stream` or
:func:`read_file`: at most ``limit + 1`` bytes are read, in chunks, and a byte past the limit
raises :class:`TooLarge`, whose message names the source, the limit and the fix.

No size is asked of the file system: ``stat`` speaks for regular files only (a device, a FIFO
or standard input reports 0), and a file can grow between the question and the read. Counting
the bytes read is the one check that holds for all of them.

The module imports nothing but :mod:`missionctl.errors`: a command reads its input before it
loads the services, so that an input over its limit is refused in milliseconds.
"""

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Protocol

from missionctl.errors import Problem, ValidationFailed

__all__ = ["CHUNK_BYTES", "TooLarge", "read_file", "read_stream"]

CHUNK_BYTES = 64 * 1024
"""The most one call to ``read`` asks for: memory beyond the limit is never more than this."""


class Readable(Protocol):
    """A binary stream: a file opened ``rb``, ``sys.stdin.buffer``, a pipe."""

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes; ``b""`` at the end."""
        ...


class TooLarge(ValidationFailed, ValueError):
    """An input with more bytes than its limit; it was not read past the first one over.

    A :class:`~missionctl.errors.ValidationFailed` (one problem, the input's ``field``), so
    that the adapters report it as any invalid input (the CLI exits 2); and a ``ValueError``,
    so that a reader whose contract is ``ValueError`` for an unusable file (a key, a
    checkpoint, a data file) reports it as it reports a file it cannot parse.

    Attributes:
        source: What was read, as its reader should see it (a path, ``standard input``).
        limit: The most bytes the input may hold.
    """

    def __init__(self, source: str, *, limit: int, fix: str, field: str | None = None) -> None:
        """``fix`` says what to do instead, e.g. ``split it into smaller parts``."""
        message = f"{source} is larger than {limit} bytes; {fix}"
        super().__init__([Problem(field, message)])
        self.source = source
        self.limit = limit


def read_stream(
    stream: Readable, *, limit: int, source: str, fix: str, field: str | None = None
) -> bytes:
    """``stream`` read to its end, when that is at most ``limit`` bytes away.

    Reads at most ``limit + 1`` bytes, in chunks of at most :data:`CHUNK_BYTES`, whatever the
    stream is; an endless one (``/dev/zero``, ``yes |``) costs one chunk past the limit.

    Raises:
        TooLarge: the stream holds more than ``limit`` bytes (``source``, ``fix`` and ``field``
            make its message).
        OSError: the stream cannot be read.
    """
    if limit < 0:
        raise ValueError("limit must be at least 0")
    data = bytearray()
    while chunk := stream.read(min(CHUNK_BYTES, limit + 1 - len(data))):
        data += chunk
        if len(data) > limit:
            raise TooLarge(source, limit=limit, fix=fix, field=field)
    return bytes(data)


def read_file(
    path: Path | Traversable,
    *,
    limit: int,
    fix: str,
    field: str | None = None,
    source: str | None = None,
) -> bytes:
    """The bytes of the file at ``path`` (a path, a device, a FIFO, a packaged resource).

    :func:`read_stream` on the opened file; ``source`` names it in the error (default: the
    path). Opening a FIFO waits for its writer, as any reader of one does.

    Raises:
        TooLarge: the file holds more than ``limit`` bytes.
        OSError: it cannot be opened or read (missing, a directory, no permission).
    """
    with path.open("rb") as stream:
        shown = str(path) if source is None else source
        return read_stream(stream, limit=limit, source=shown, fix=fix, field=field)
