"""A database that cannot be used, told apart from a bug: unreachable, full, read-only, damaged.

When the database server is down, its disk is full or its volume is read-only, a request is
not wrong and the code is not broken: the dependency is unavailable, and the answer says so
(503, with what to do), as PostgreSQL and Grafana do, instead of an internal error. Integrity
violations and programming errors are not faults of this kind: they stay 500s and tracebacks.
The words never quote the database's address or credentials.
"""

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy import exc as sa_exc

__all__ = ["DatabaseFault", "Outage", "OutageLog", "database_fault"]


@dataclass(frozen=True, slots=True)
class DatabaseFault:
    """Why the database cannot be used now: ``cause`` (a key) and a sentence with the fix."""

    cause: str
    message: str


# Lower-case fragments of the drivers' messages (SQLite, psycopg) and what they mean.
_CAUSES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "disk_full",
        ("disk is full", "no space left", "could not extend file", "disk full"),
        "the database's disk is full: free space on its volume; writes resume by themselves",
    ),
    (
        "io_error",
        ("disk i/o error",),
        "the database's disk reported an input/output error: it is full or failing; free "
        "space on its volume or check the device; writes resume by themselves",
    ),
    (
        "read_only",
        ("readonly database", "read-only", "read only"),
        "the database is read-only: make its file or volume writable (or fail over to a "
        "primary); writes resume by themselves",
    ),
    (
        "unreachable",
        (
            "connection refused",
            "could not connect",
            "connection to server",
            "server closed the connection",
            "terminating connection",
            "unable to open database file",
            "timeout",
            "timed out",
            "the database system is",
            "no such host",
            "name or service not known",
        ),
        "cannot reach the database: is it running, and is MISSIONCTL_DATABASE_URL right? "
        "Requests succeed again as soon as it answers",
    ),
)
_UNAVAILABLE = "the database did not answer; retry shortly"
# What SQLAlchemy raises, and what the drivers raise where they are used directly (the SQLite
# log checkpoint runs on the raw connection; the engine's prepared statements, db/prepared.py,
# on the driver's cursor).
_OPERATIONAL = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sqlite3.OperationalError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
_BUSY = ("database is locked", "database table is locked")
# A SQLite file that is damaged, or is not a database at all: no retry mends it.
_CORRUPT = ("file is not a database", "database disk image is malformed")
_CORRUPT_FIX = (
    "the database file is damaged or is not a database: restore it from a backup "
    "(docs/deploy.md), or point MISSIONCTL_DATABASE_URL at the right one"
)


def database_fault(error: BaseException) -> DatabaseFault | None:
    """The fault ``error`` reports, or ``None`` when it is not an unavailable database."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return DatabaseFault("busy", "the database is too busy to answer; retry shortly")
    if isinstance(error, sa_exc.DatabaseError | sqlite3.DatabaseError) and any(
        fragment in _driver_text(error) for fragment in _CORRUPT
    ):
        return DatabaseFault("corrupt", _CORRUPT_FIX)
    if not isinstance(error, _OPERATIONAL):
        return None
    text = _driver_text(error)
    if any(fragment in text for fragment in _BUSY):
        return DatabaseFault("busy", "the database is too busy to answer; retry shortly")
    for cause, fragments, message in _CAUSES:
        if any(fragment in text for fragment in fragments):
            return DatabaseFault(cause, message)
    # A lost connection is the database's doing; any other operational error (SQLite reports
    # a syntax error or a missing table so) may be the code's, and stays an internal error.
    if isinstance(error, sa_exc.InterfaceError) or getattr(error, "connection_invalidated", False):
        return DatabaseFault("unavailable", _UNAVAILABLE)
    return None


def _driver_text(error: BaseException) -> str:
    """The driver's own message, lower-cased (SQLAlchemy wraps it in ``orig``)."""
    return str(getattr(error, "orig", None) or error).lower()


@dataclass(frozen=True, slots=True)
class Outage:
    """A database outage as one process saw it: its causes, since when, for how long, how often."""

    causes: tuple[str, ...]
    since: datetime
    lasted_s: float
    failures: int
    what: str  # what ``failures`` counts: "requests refused", "engine ticks failed"


class OutageLog:
    """One line per cause of a database outage, then a count at most every ``every_s``.

    A server whose database is down refuses every request, and an engine fails every tick:
    a line (or a traceback) for each would flood the log while saying one thing. ``what``
    names what the count counts ("requests refused", "engine ticks failed"). Once the
    database works again, ``ended`` logs one line and returns the outage, for the record.
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._what = what
        self._every_s = every_s
        self._clock = clock
        self._since: dict[str, tuple[float, int]] = {}
        self._latest: tuple[float, DatabaseFault] | None = None
        self._began: tuple[float, datetime] | None = None  # the outage under way, if any
        self._failures = 0
        # Counted but not logged: set by a caller that tells of the fault itself (a command).
        self.quiet = False

    @property
    def active(self) -> bool:
        """Whether an outage is under way (a fault noted since the last ``ended``)."""
        return self._began is not None

    def current(self) -> "Outage | None":
        """The outage under way so far, or ``None``."""
        if self._began is None:
            return None
        began, since = self._began
        return Outage(
            causes=tuple(sorted(self._since)),
            since=since,
            lasted_s=round(self._clock() - began, 1),
            failures=self._failures,
            what=self._what,
        )

    def ended(self) -> "Outage | None":
        """The database works again: log one line saying so, forget the outage, return it."""
        outage = self.current()
        if outage is None:
            return None
        if not self.quiet:
            self._log_end(outage)
        self._began, self._failures, self._latest = None, 0, None
        self._since.clear()
        return outage

    def _log_end(self, outage: Outage) -> None:
        self._logger.info(
            "database available again after %.0f s (%s): %d %s meanwhile",
            outage.lasted_s,
            ", ".join(outage.causes),
            outage.failures,
            self._what,
        )

    def recent(self, within_s: float = 30.0) -> DatabaseFault | None:
        """The last fault noted, if it was noted within ``within_s``; else ``None``."""
        latest = self._latest
        if latest is None or self._clock() - latest[0] > within_s:
            return None
        return latest[1]

    def note(self, fault: DatabaseFault) -> None:
        """Count one failure for ``fault``; log when it is new or ``every_s`` has passed."""
        now = self._clock()
        self._latest = (now, fault)
        self._failures += 1
        if self._began is None:
            self._began = (now, datetime.now(UTC))
        last, count = self._since.get(fault.cause, (None, 0))
        if last is not None and now - last < self._every_s:
            self._since[fault.cause] = (last, count + 1)
            return
        self._since[fault.cause] = (now, 0)
        if self.quiet:
            return
        if last is None:
            self._logger.warning("database unavailable (%s): %s", fault.cause, fault.message)
            return
        self._logger.warning(
            "database still unavailable (%s): %d %s in the last %.0f s",
            fault.cause,
            count + 1,
            self._what,
            now - last,
        )

    def failed(self, error: BaseException, doing: str) -> None:
        """Log that ``doing`` failed with ``error``: an outage in one quiet line, else a trace."""
        fault = database_fault(error)
        if fault is None:
            self._logger.error("%s failed; retrying", doing, exc_info=error)
        else:
            self.note(fault)
