"""Name the test that opened a PostgreSQL connection (or a subprocess transport) the garbage
collector finds still open.

psycopg warns (``ResourceWarning``) when it collects an open connection, and with warnings as
errors that fails whichever test happens to be running when the collector runs: a test that
did nothing wrong, on another database, minutes after the connection was opened. That says
nothing about where the leak is, and a suite that fails at random hides real failures.

:func:`watch` records, for every psycopg connection, the test during which it was opened. A
connection collected while open is closed quietly and written down, with that test, in
``psycopg-leaks.txt`` under the worker's temporary directory; :func:`report` (the run's last
words) lists them all. A leak is therefore reported against the test that made it, every
run, instead of failing an innocent one some runs.

aiosqlite's connections are watched alike: one collected while open is closed on its own
thread (which then ends) and written down in the same file.

asyncio's subprocess transports are watched the same way: one whose loop closed before it saw
its pipes end warns "unclosed transport" whenever it is collected, in whatever test runs then.
Those are closed quietly and written down in ``subprocess-leaks.txt`` beside the first file.
"""

import contextlib
from asyncio import base_subprocess
from pathlib import Path
from typing import Any

from aiosqlite import core as aiosqlite_core
from psycopg import _connection_base

LEAKS_FILE = "psycopg-leaks.txt"
TRANSPORT_LEAKS_FILE = "subprocess-leaks.txt"

_current = ["(no test)"]
_out: list[Path] = []


def watch(directory: Path) -> None:
    """Record the opening test of every connection; write leaks into ``directory``."""
    _out[:] = [directory / LEAKS_FILE]
    base = _connection_base.BaseConnection
    init, delete = base.__init__, base.__del__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._opened_during = _current[0]

    def __del__(self: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "closed", True):
            delete(self, *args, **kwargs)
            return
        _write_down(LEAKS_FILE, "connection", getattr(self, "_opened_during", "(unknown)"))
        # What the warning would have left to the process's end; a connection half torn down
        # has nothing left to close.
        with contextlib.suppress(Exception):
            self.pgconn.finish()

    base.__init__ = __init__  # type: ignore[method-assign]
    base.__del__ = __del__  # type: ignore[method-assign]
    _watch_aiosqlite_connections()
    _watch_subprocess_transports()


def _watch_aiosqlite_connections() -> None:
    """Record the test that opened each aiosqlite connection; close and write down leaks."""
    base = aiosqlite_core.Connection
    init = base.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._opened_during = _current[0]

    def __del__(self: Any) -> None:
        connection = getattr(self, "_connection", None)
        if connection is None:
            return
        _write_down(LEAKS_FILE, "aiosqlite connection", getattr(self, "_opened_during", "?"))
        self._connection = None
        # Closed on the thread that made it (sqlite3's rule); then that thread ends.
        self._tx.put_nowait((None, connection.close))
        self._tx.put_nowait((None, lambda: aiosqlite_core._STOP_RUNNING_SENTINEL))

    base.__init__ = __init__  # type: ignore[method-assign]
    base.__del__ = __del__  # type: ignore[method-assign]


def _watch_subprocess_transports() -> None:
    """Record the test that started each asyncio subprocess; write down those left unclosed."""
    base = base_subprocess.BaseSubprocessTransport
    init, delete = base.__init__, base.__del__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        self._opened_during = _current[0]
        init(self, *args, **kwargs)

    def __del__(self: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "_closed", True):
            delete(self, *args, **kwargs)
            return
        _write_down(
            TRANSPORT_LEAKS_FILE,
            f"subprocess transport {self!r}",
            getattr(self, "_opened_during", "?"),
        )
        _close_quietly(self)

    base.__init__ = __init__  # type: ignore[method-assign]
    base.__del__ = __del__  # type: ignore[method-assign]


def _close_quietly(transport: Any) -> None:
    """Close a leaked subprocess transport's pipes and kill its process, as its warning would.

    Its loop is closed, so ``close()`` cannot schedule the pipes' closing: their files are
    closed here, or each would warn in turn.
    """
    for protocol in (transport._pipes or {}).values():
        pipe = getattr(protocol, "pipe", None)
        if pipe is not None and getattr(pipe, "_pipe", None) is not None:
            with contextlib.suppress(Exception):
                pipe._pipe.close()
            pipe._pipe = None
    with contextlib.suppress(Exception):
        transport.close()
    transport._closed = True


def _write_down(name: str, what: str, opened: str) -> None:
    with (_out[0].parent / name).open("a", encoding="utf-8") as leaks:
        leaks.write(f"{what} opened during {opened}; collected during {_current[0]}\n")


def running(nodeid: str) -> None:
    """Note the test that runs now."""
    _current[0] = nodeid


def recorded() -> list[str]:
    """The leaks this process has written down so far."""
    found = _out[0] if _out else None
    return found.read_text(encoding="utf-8").splitlines() if found and found.exists() else []


def report(root: Path) -> list[str]:
    """Every leak written under ``root`` (all workers' directories), one line each."""
    return [
        line
        for name in (LEAKS_FILE, TRANSPORT_LEAKS_FILE)
        for found in sorted(root.rglob(name))
        for line in found.read_text(encoding="utf-8").splitlines()
    ]
