"""The process's one clock override: a moved clock that the application clock and the log read.

By default nothing is moved: ``utcnow()`` is the machine's time and every event is stamped with
the database's time. A program that writes a dated history (``missionctl demo seed``, ADR 0071)
installs a :class:`MovedClock` for the length of its work and moves it forward; meanwhile
``utcnow()`` and every appended event read the moved time instead. Reading the override costs
the hot path one attribute read (``CLOCK.moved``).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from missionctl.errors import Conflict


class _Override:
    """Where the moved time is kept: ``None`` while no clock is moved (the default)."""

    __slots__ = ("moved",)

    def __init__(self) -> None:
        self.moved: datetime | None = None


CLOCK = _Override()
"""Read ``CLOCK.moved``: the moved time, or ``None`` when the real clocks apply."""

_INSTALLING = threading.Lock()


class MovedClock:
    """A clock that stands still until moved, and is only ever moved forward.

    Timestamps along the log must never go backwards, so :meth:`move_to` an earlier instant
    leaves the clock where it is.
    """

    def __init__(self, start: datetime) -> None:
        """A clock at ``start`` (timezone-aware), not installed yet."""
        if start.tzinfo is None:
            raise ValueError("a moved clock starts at an aware datetime")
        self._now = start.astimezone(UTC)

    @property
    def now(self) -> datetime:
        """The time the clock shows."""
        return self._now

    def move_to(self, instant: datetime) -> datetime:
        """Move to ``instant`` if it is later than now; returns the time shown after."""
        if instant > self._now:
            self._set(instant.astimezone(UTC))
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` (negative counts as zero); returns the time shown after."""
        return self.move_to(self._now + timedelta(seconds=max(0.0, seconds)))

    def _set(self, instant: datetime) -> None:
        self._now = instant
        if CLOCK.moved is not None:  # installed: what the process reads moves too
            CLOCK.moved = instant


@contextmanager
def moved_clock(start: datetime) -> Iterator[MovedClock]:
    """Install a clock at ``start`` for the block; the real clocks apply again when it ends.

    Raises:
        Conflict: another moved clock is installed in this process (one history at a time).
    """
    clock = MovedClock(start)
    if not _INSTALLING.acquire(blocking=False):
        raise Conflict(
            "another dated history is being written in this process; wait for it to finish"
        )
    try:
        CLOCK.moved = clock.now
        yield clock
    finally:
        CLOCK.moved = None
        _INSTALLING.release()
