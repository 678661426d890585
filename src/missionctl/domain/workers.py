"""The registry of engines: their status words, the commands they obey, and their utilisation.

An engine heartbeats every ``HEARTBEAT_S`` seconds at most (sooner, down to one second, when
its lease heartbeat ``MISSIONCTL_ENGINE_HEARTBEAT_S`` is shorter). A worker whose last
heartbeat is older than ``STALE_S`` has missed several in a row (it crashed, hangs, or lost its
database) and is *stale*; older than ``OFFLINE_S`` it is *offline*, and the first live process
that notices records it once (``services.usecases.workers.report_offline_workers``). Its leases
expire on their own meanwhile, as they always did.

The control plane steers a worker through its row: ``desired_state`` (run, drain, stop) and
``desired_concurrency``, which the engine reads at each heartbeat and obeys (ADR 0058).
"""

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from missionctl.domain.autoscaling import Autoscale
from missionctl.errors import Conflict, Problem, ValidationFailed

HEARTBEAT_S: Final = 10.0
"""The longest an engine waits between two heartbeats."""

ALIVE_S: Final = 30.0
"""A worker is alive while its last heartbeat is at most this many seconds old."""

STALE_S: Final = ALIVE_S
"""Past this many seconds without a heartbeat a worker is stale: no longer counted alive."""

OFFLINE_S: Final = 90.0
"""Past this many seconds without a heartbeat a worker is offline, for good (nine missed beats)."""

MAX_CONCURRENCY: Final = 1000
"""The most steps one engine may run at once (the bound of ``MISSIONCTL_ENGINE_CONCURRENCY``)."""

UTILISATION_WINDOWS_S: Final = (300.0, 3600.0)
"""The windows utilisation is reported over: the last 5 minutes and the last hour."""


class WorkerKind(StrEnum):
    """Where an engine runs."""

    embedded = "embedded"  # inside ``missionctl serve``
    worker = "worker"  # a ``missionctl worker`` process (or a program's own engine)


class WorkerStatus(StrEnum):
    """What the registry says of a worker (``worker_status``)."""

    online = "online"  # heartbeating, claiming work (idle or busy)
    draining = "draining"  # heartbeating, finishing what it holds, claiming nothing
    stale = "stale"  # missed heartbeats for more than STALE_S seconds
    offline = "offline"  # missed heartbeats for more than OFFLINE_S seconds: gone
    stopped = "stopped"  # stopped cleanly


class DesiredState(StrEnum):
    """What the control plane asks of a worker; the engine obeys at its next heartbeat."""

    run = "run"  # claim work up to its concurrency
    drain = "drain"  # finish the held steps, claim no new ones
    stop = "stop"  # drain, then exit (the server's own engine only stops claiming)


class EngineState(StrEnum):
    """What an engine reports doing at its heartbeat."""

    running = "running"
    draining = "draining"


class WorkerCommand(StrEnum):
    """The commands of the control plane."""

    drain = "drain"
    resume = "resume"
    stop = "stop"


_GONE = (WorkerStatus.offline, WorkerStatus.stopped)


@dataclass(frozen=True, slots=True)
class HeldStep:
    """A step run an engine holds (its lease) at a heartbeat."""

    step_run_id: str
    run_id: str
    step_id: str


@dataclass(frozen=True, slots=True)
class HeartbeatReport:
    """What an engine says it does at a heartbeat."""

    state: EngineState
    concurrency: int
    held: tuple[HeldStep, ...]
    utilisation_5m: float | None
    utilisation_1h: float | None


@dataclass(frozen=True, slots=True)
class Orders:
    """What a worker's row asks of its engine, read back at each heartbeat."""

    desired_state: DesiredState
    desired_concurrency: int | None


def heartbeat_interval(lease_heartbeat_s: float) -> float:
    """Seconds between two heartbeats of an engine whose leases renew every ``lease_heartbeat_s``.

    At most ``HEARTBEAT_S`` (alive needs several within ``ALIVE_S``), at least one second (an
    engine tuned for fast lease renewal need not write its heartbeat as often).
    """
    return min(HEARTBEAT_S, max(1.0, lease_heartbeat_s))


def alive_since(now: datetime) -> datetime:
    """The oldest heartbeat that still counts as alive at ``now``."""
    return now - timedelta(seconds=ALIVE_S)


def offline_before(now: datetime) -> datetime:
    """A heartbeat older than this, at ``now``, makes its worker offline."""
    return now - timedelta(seconds=OFFLINE_S)


def is_alive(*, last_heartbeat_at: datetime, stopped_at: datetime | None, now: datetime) -> bool:
    """Whether a worker counts as alive at ``now``: not stopped, and heartbeating recently."""
    return stopped_at is None and last_heartbeat_at >= alive_since(now)


def worker_status(
    *,
    last_heartbeat_at: datetime,
    stopped_at: datetime | None,
    offline_reported_at: datetime | None,
    state: str,
    now: datetime,
) -> WorkerStatus:
    """The status word of a worker at ``now``.

    Stopped wins (a clean exit), then offline (reported, or silent past ``OFFLINE_S``), then
    stale (silent past ``STALE_S``); a heartbeating worker is draining or online as it reports.
    """
    if stopped_at is not None:
        return WorkerStatus.stopped
    silent_s = (now - last_heartbeat_at).total_seconds()
    if offline_reported_at is not None or silent_s > OFFLINE_S:
        return WorkerStatus.offline
    if silent_s > STALE_S:
        return WorkerStatus.stale
    return WorkerStatus.draining if state == EngineState.draining else WorkerStatus.online


def command_target(
    *, name: str, status: WorkerStatus, desired: DesiredState, command: WorkerCommand
) -> DesiredState:
    """The desired state ``command`` moves a worker to.

    Raises:
        Conflict: the worker is stopped or offline (nothing would obey), or the command would
            change nothing (already draining, already asked to stop, nothing to resume).
    """
    _refuse_gone(name, status, f"cannot be told to {command}")
    if command is WorkerCommand.resume:
        if desired is DesiredState.run:
            raise Conflict(
                f"worker {name} is neither draining nor stopping: there is nothing to resume",
                field="worker_id",
            )
        return DesiredState.run
    target = DesiredState(command.value)
    if desired is target:
        raise Conflict(
            f"worker {name} was already asked to {command}; resume it to undo that",
            field="worker_id",
        )
    if desired is DesiredState.stop:
        raise Conflict(
            f"worker {name} was asked to stop, which drains it first; resume it, then drain it "
            "to keep it running without new work",
            field="worker_id",
        )
    return target


def check_concurrency(*, name: str, status: WorkerStatus, concurrency: int, current: int) -> None:
    """Refuse a concurrency change that is out of bounds, changes nothing, or reaches no one.

    Raises:
        ValidationFailed: ``concurrency`` is not within 1..``MAX_CONCURRENCY``.
        Conflict: the worker is stopped or offline, or already runs ``concurrency`` at once.
    """
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValidationFailed(
            [
                Problem(
                    "concurrency",
                    f"must be between 1 and {MAX_CONCURRENCY} steps at once, not {concurrency}",
                )
            ]
        )
    _refuse_gone(name, status, "cannot change its concurrency")
    if concurrency == current:
        raise Conflict(
            f"worker {name} already runs {current} steps at once: nothing to change",
            field="concurrency",
        )


def check_autoscale(
    *, name: str, status: WorkerStatus, policy: Autoscale, current: Autoscale | None
) -> None:
    """Refuse a range that is out of bounds, upside down, the one it has, or reaches no one.

    Raises:
        ValidationFailed: ``minimum`` or ``maximum`` is not within 1..``MAX_CONCURRENCY``, or
            the maximum is below the minimum (the field named is the one to fix).
        Conflict: the worker is stopped or offline, or already sizes itself in this range.
    """
    problems = [
        Problem(field, f"must be between 1 and {MAX_CONCURRENCY} steps at once, not {value}")
        for field, value in (("minimum", policy.minimum), ("maximum", policy.maximum))
        if not 1 <= value <= MAX_CONCURRENCY
    ]
    if not problems and policy.maximum < policy.minimum:
        problems.append(
            Problem(
                "maximum",
                f"must be at least the minimum ({policy.minimum}), not {policy.maximum}",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    _refuse_gone(name, status, "cannot size itself")
    if policy == current:
        raise Conflict(
            f"worker {name} already sizes itself between {policy.minimum} and "
            f"{policy.maximum} steps at once: nothing to change",
            field="maximum",
        )


def _refuse_gone(name: str, status: WorkerStatus, what: str) -> None:
    if status in _GONE:
        raise Conflict(
            f"worker {name} is {status} and {what}: only a running worker reads its commands "
            "(start a new one with `missionctl worker`)",
            field="worker_id",
        )


class SlotMeter:
    """Busy and available slot-seconds of one engine, for its utilisation over recent windows.

    A step's busy time is counted from its start to its end (on a monotonic clock); available
    time is the concurrency integrated over time. ``sample`` keeps the two totals at each
    heartbeat; utilisation over a window is the growth of busy over the growth of available
    since the newest sample at least that old, so it is exact over a window between the asked
    length and one heartbeat longer (or over the uptime while it is shorter). Times are
    seconds of one monotonic clock, passed in by the caller.
    """

    def __init__(self, *, slots: int, now: float, keep_s: float = UTILISATION_WINDOWS_S[-1]):
        """Start with ``slots`` available at ``now``, nothing busy."""
        self._open: dict[Hashable, float] = {}
        self._finished = 0.0  # busy seconds of steps that ended
        self._slots = slots
        self._slots_since = now
        self._available = 0.0  # slot-seconds before ``_slots_since``
        self._keep_s = keep_s
        self._samples: deque[tuple[float, float, float]] = deque([(now, 0.0, 0.0)])

    def begin(self, key: Hashable, now: float) -> None:
        """A step started at ``now``."""
        self._open[key] = now

    def end(self, key: Hashable, now: float) -> None:
        """A step ended at ``now`` (unknown keys are ignored)."""
        started = self._open.pop(key, None)
        if started is not None:
            self._finished += now - started

    def set_slots(self, slots: int, now: float) -> None:
        """The concurrency is ``slots`` from ``now`` on."""
        self._available += self._slots * (now - self._slots_since)
        self._slots, self._slots_since = slots, now

    def totals(self, now: float) -> tuple[float, float]:
        """Busy and available slot-seconds from the start to ``now``."""
        busy = self._finished + sum(now - started for started in self._open.values())
        return busy, self._available + self._slots * (now - self._slots_since)

    def sample(self, now: float) -> None:
        """Keep the totals at ``now``; forget samples no window needs any more."""
        self._samples.append((now, *self.totals(now)))
        horizon = now - self._keep_s
        while len(self._samples) > 1 and self._samples[1][0] <= horizon:
            self._samples.popleft()

    def utilisation(self, window_s: float, now: float) -> float | None:
        """Percent of the available slot-seconds busy over the last ``window_s`` (about).

        ``None`` when no time has passed. Capped at 100: busy can exceed available only while
        a lowered concurrency lets the steps already running finish.
        """
        start = self._samples[0]
        for sample in self._samples:
            if sample[0] > now - window_s:
                break
            start = sample
        busy, available = self.totals(now)
        span = available - start[2]
        if span <= 0:
            return None
        return round(min(100.0, 100.0 * (busy - start[1]) / span), 1)
