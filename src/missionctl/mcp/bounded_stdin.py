"""Standard input for the MCP stdio server, one line at a time, each line bounded.

The SDK's stdio transport reads every message as one line, whole: a client that sends a line
without end grows the server's memory without limit. ``bounded_stdin`` hands the transport
a stream whose lines stop at ``limit`` characters while they are read: the rest of a longer
line is read in pieces and dropped, and the transport gets in its place a line that is not
JSON, which it answers as a parse error; the session goes on.

The SDK also points file descriptor 0 at the null device while it serves (so that a handler
or a child process reads end-of-file instead of the protocol) and restores it afterwards; an
explicit stream turns that off, so it is done here.
"""

import contextlib
import io
import logging
import os
from collections.abc import Iterator

__all__ = ["NOT_A_MESSAGE", "BoundedLines", "bounded_stdin"]

# What stands for a refused line: not JSON, so the transport reports a parse error.
NOT_A_MESSAGE = "(message refused: longer than the limit)"
_CHUNK = 64 * 1024

log = logging.getLogger(__name__)


class BoundedLines(io.TextIOWrapper):
    """UTF-8 text whose ``readline`` returns at most ``limit`` characters and the line end."""

    def __init__(self, buffer: io.BufferedReader, *, limit: int) -> None:
        super().__init__(buffer, encoding="utf-8", errors="replace")
        self.limit = limit

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]  # typeshed: text
        """The next line; one longer than ``limit`` is dropped, ``NOT_A_MESSAGE`` in its place."""
        line = super().readline(self.limit + 1)
        if len(line) <= self.limit or line.endswith("\n"):
            return line
        while (rest := super().readline(_CHUNK)) and not rest.endswith("\n"):
            pass  # read to the line's end, keeping none of it
        log.warning("refused an MCP message longer than %d characters", self.limit)
        return NOT_A_MESSAGE + "\n"


@contextlib.contextmanager
def bounded_stdin(limit: int) -> Iterator[BoundedLines]:
    """This process's standard input as ``BoundedLines``; fd 0 reads the null device meanwhile."""
    wire = os.dup(0)
    saved = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    stream = BoundedLines(io.BufferedReader(io.FileIO(wire, "rb")), limit=limit)
    try:
        yield stream
    finally:
        stream.close()
        os.dup2(saved, 0)
        os.close(saved)
