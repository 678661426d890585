"""The registry of engines: what kinds there are and when one counts as alive.

An engine heartbeats every ``HEARTBEAT_S`` seconds at most (sooner, down to one second, when
its lease heartbeat ``MISSIONCTL_ENGINE_HEARTBEAT_S`` is shorter), so a worker whose last
heartbeat is older than ``ALIVE_S`` has missed several in a row: it crashed, hangs, or lost its
database.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

HEARTBEAT_S: Final = 10.0
"""The longest an engine waits between two heartbeats."""

ALIVE_S: Final = 30.0
"""A worker is alive while its last heartbeat is at most this many seconds old."""


class WorkerKind(StrEnum):
    """Where an engine runs."""

    embedded = "embedded"  # inside ``missionctl serve``
    worker = "worker"  # a ``missionctl worker`` process (or a program's own engine)


def heartbeat_interval(lease_heartbeat_s: float) -> float:
    """Seconds between two heartbeats of an engine whose leases renew every ``lease_heartbeat_s``.

    At most ``HEARTBEAT_S`` (alive needs several within ``ALIVE_S``), at least one second (an
    engine tuned for fast lease renewal need not write its heartbeat as often).
    """
    return min(HEARTBEAT_S, max(1.0, lease_heartbeat_s))


def alive_since(now: datetime) -> datetime:
    """The oldest heartbeat that still counts as alive at ``now``."""
    return now - timedelta(seconds=ALIVE_S)


def is_alive(*, last_heartbeat_at: datetime, stopped_at: datetime | None, now: datetime) -> bool:
    """Whether a worker counts as alive at ``now``: not stopped, and heartbeating recently."""
    return stopped_at is None and last_heartbeat_at >= alive_since(now)
