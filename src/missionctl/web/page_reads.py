"""What a page reads, shared by the viewers of that page who ask at about the same time.

Fifty people watching one busy run each have a live stream, and each stream re-reads the run
page's state when events change it (``web/sse.py``). The events reach every stream at once, so
the fifty reads would read the same rows. Here they share one: a caller names the newest event
it must show (``seen``, a ``seq`` it has read, so committed), and gets the answer of a read
that *started* after that event was known here: the one under way, one that just finished, or
a new one. Callers report the events they know as they ask, and each read remembers the newest
reported before it started (``covers``): it saw that event's commit, so sharing never shows a
viewer an older state than a read of its own would have (ADR 0107).

Reads are shared only within one process and one database (the test suite runs many apps in
one process), and only between callers that pass the same key: what is read must not depend on
who asks (identity and CSRF tokens are added by each stream after the read).
"""

import asyncio
import weakref
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, TypeVar

from missionctl.db.database import Database

T = TypeVar("T")

KEEP_S = 5.0
"""How long a finished read stays reusable (by callers whose change it already saw)."""


class _Read:
    """One read: the newest event known when it started, when that was, and its task."""

    __slots__ = ("covers", "started", "task")

    def __init__(self, covers: int, started: float, task: "asyncio.Task[Any]") -> None:
        self.covers = covers
        self.started = started
        self.task = task


class PageReads:
    """The shared reads of one database in this process (see the module's docstring)."""

    def __init__(self) -> None:
        self._reads: dict[Hashable, _Read] = {}
        self._known = 0  # the newest event a caller has reported

    async def read(
        self, key: Hashable, read: Callable[[], Coroutine[Any, Any, T]], *, seen: int
    ) -> T:
        """What ``read()`` returns, from a read of ``key`` that started after event ``seen``.

        ``read`` runs in a task of its own: a caller that is cancelled (a browser leaving)
        neither cuts it short nor takes it from the others waiting for it. Raises what
        ``read`` raises (to every caller sharing it; a failed read is not reused).
        """
        now = asyncio.get_running_loop().time()
        self._forget_old(now)
        self._known = max(self._known, seen)
        shared = self._reads.get(key)
        if shared is None or shared.covers < seen or _failed(shared.task):
            task = asyncio.create_task(read())
            # Its outcome is read here too: every caller may have left before it ended.
            task.add_done_callback(_failed)
            shared = self._reads[key] = _Read(self._known, now, task)
        result: T = await asyncio.shield(shared.task)
        return result

    def _forget_old(self, now: float) -> None:
        old = [k for k, r in self._reads.items() if r.task.done() and r.started < now - KEEP_S]
        for key in old:
            del self._reads[key]


def _failed(task: "asyncio.Task[Any]") -> bool:
    """Whether ``task`` ended without an answer (reading its outcome, so asyncio logs none)."""
    return task.done() and (task.cancelled() or task.exception() is not None)


_by_database: "weakref.WeakKeyDictionary[Database, PageReads]" = weakref.WeakKeyDictionary()


def page_reads(db: Database) -> PageReads:
    """The ``PageReads`` of ``db`` (one per ``Database``, so one per app and process)."""
    reads = _by_database.get(db)
    if reads is None:
        reads = _by_database[db] = PageReads()
    return reads
