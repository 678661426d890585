"""Schedules' pure rules: cron expressions in a time zone, due ticks, misses and overlap.

A schedule's ticks are the instants its five-field cron expression names in its IANA time zone,
computed by croniter from a time-zone-aware start, so that a daylight-saving change moves the
tick's UTC time and never its wall-clock time. Two adjustments to what croniter gives:

- when clocks go back, a wall-clock time happens twice; an expression with a fixed hour fires
  at the first of the two only (as cron does), one whose hour field is ``*`` fires at both,
  since they are an hour apart in real time;
- when clocks go forward, a wall-clock time that does not exist fires at the first instant
  after the gap (croniter's behaviour, kept).

A pass of the scheduler (``services.usecases.scheduler.fire_due``) looks at the ticks from the
stored ``next_fire_at`` up to ``now`` (:func:`due_ticks`): the newest is *on time* when it is at
most :data:`MISFIRE_GRACE` old, every other one was *missed* (the schedule was paused, or nothing
ran the scheduler). The misfire policy decides what missed ticks become: ``skip`` nothing,
``run_once`` one run for all of them. A pass fires at most one run per schedule.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from croniter import croniter

MISFIRE_GRACE: Final = timedelta(seconds=30)
"""A tick fired at most this late is on time; an older unfired tick was missed."""

MAX_COUNTED_MISSES: Final = 1_000
"""Missed ticks are counted up to this many, then reported as "at least" (a year-long pause of
an every-minute schedule would otherwise walk half a million ticks, at about 0.2 ms each, in
the firing transaction)."""

MACROS: Final = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"})
"""The named expressions accepted besides five fields."""


class MisfirePolicy(StrEnum):
    """What ticks missed while paused or while nothing ran the scheduler become."""

    skip = "skip"  # nothing: the next tick fires as usual
    run_once = "run_once"  # one catch-up run for all of them


class OverlapPolicy(StrEnum):
    """What a tick does while the schedule's previous run is still active."""

    skip = "skip"  # nothing: the tick is recorded as skipped
    queue = "queue"  # one run starts once the previous run ends (ticks meanwhile coalesce)
    allow = "allow"  # a run starts anyway, beside the previous one


class MissionAction(StrEnum):
    """What a schedule of a mission does at each tick."""

    run = "run"  # run the mission's newest plan
    plan_again = "plan_again"  # plan the mission again, then run the new plan


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a schedule's cron expression, or ``None`` when it is.

    Five fields (minute hour day-of-month month day-of-week) or one of :data:`MACROS`; no
    seconds field, since a tick per second is not a schedule.
    """
    text = expression.strip()
    fields = text.split()
    if text.lower() in MACROS:
        return None
    if len(fields) != 5:
        return (
            f"has {len(fields)} field(s); write five: minute hour day-of-month month "
            "day-of-week, e.g. '*/15 * * * *' or '0 9 * * MON-FRI' (or @hourly, @daily…)"
        )
    if not croniter.is_valid(text):
        return "is not a valid cron expression; e.g. '0 9 * * MON-FRI' is 09:00 on weekdays"
    return None


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not a known IANA time zone, or ``None`` when it is."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "is not a known IANA time zone; write one such as UTC, Europe/Paris or Asia/Tokyo"
    return None


@dataclass(frozen=True, slots=True)
class Cron:
    """A valid cron expression in a time zone: its ticks, as UTC instants."""

    expression: str
    zone: str

    def __post_init__(self) -> None:
        if problem := cron_problem(self.expression):
            raise ValueError(f"cron expression {self.expression!r} {problem}")
        if problem := zone_problem(self.zone):
            raise ValueError(f"time zone {self.zone!r} {problem}")

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after ``moment`` (aware), in UTC."""
        tz = zoneinfo.ZoneInfo(self.zone)
        ticks = croniter(self.expression.strip(), moment.astimezone(tz))
        while True:
            tick: datetime = ticks.get_next(datetime)
            if self._hour_is_wild() or not _repeated_wall_time(tick, tz):
                return tick.astimezone(UTC)

    def _hour_is_wild(self) -> bool:
        text = self.expression.strip()
        return text.lower() == "@hourly" or (not text.startswith("@") and text.split()[1] == "*")


def _repeated_wall_time(tick: datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether ``tick``'s wall-clock time happened once already that day (clocks went back)."""
    first = tick.replace(tzinfo=None).replace(tzinfo=tz, fold=0)
    return first.utcoffset() != tick.utcoffset()


@dataclass(frozen=True, slots=True)
class DueTicks:
    """The ticks from a schedule's ``next_fire_at`` up to now, as a pass sees them.

    Attributes:
        on_time: the newest due tick, if at most :data:`MISFIRE_GRACE` old.
        missed: how many due ticks were missed (counted up to :data:`MAX_COUNTED_MISSES`).
        first_missed: the oldest missed tick, if any.
        last_missed: the newest missed tick, if any.
        next_fire_at: the first tick after now: what ``next_fire_at`` becomes.
    """

    on_time: datetime | None
    missed: int
    first_missed: datetime | None
    last_missed: datetime | None
    next_fire_at: datetime


def due_ticks(cron: Cron, next_fire_at: datetime, now: datetime) -> DueTicks:
    """Sort the ticks in ``[next_fire_at, now]`` into the one on time and those missed.

    ``next_fire_at`` is a tick (the stored one); ``now`` is aware. When ``next_fire_at`` is
    after ``now`` nothing is due: no tick on time, none missed.
    """
    if next_fire_at > now:
        return DueTicks(None, 0, None, None, next_fire_at)
    count = 1
    previous: datetime | None = None
    newest = next_fire_at
    following = cron.next_after(newest)
    while following <= now:
        if count > MAX_COUNTED_MISSES:  # stop counting: jump to the newest two due ticks
            previous, newest = _newest_two(cron, now)
            break
        previous, newest = newest, following
        count += 1
        following = cron.next_after(newest)
    on_time = newest if now - newest <= MISFIRE_GRACE else None
    missed = count - (0 if on_time is None else 1)
    last_missed = None
    if missed:
        last_missed = newest if on_time is None else previous
    return DueTicks(
        on_time=on_time,
        missed=missed,
        first_missed=next_fire_at if missed else None,
        last_missed=last_missed,
        next_fire_at=cron.next_after(now),
    )


def _newest_two(cron: Cron, now: datetime) -> tuple[datetime, datetime]:
    """The two newest ticks at or before ``now`` (older first)."""
    tz = zoneinfo.ZoneInfo(cron.zone)
    ticks = croniter(cron.expression.strip(), now.astimezone(tz))
    # get_prev is strictly before its start: a tick exactly at ``now`` is the newest then.
    newest: datetime = ticks.get_prev(datetime)
    older: datetime = ticks.get_prev(datetime)
    if cron.next_after(newest) <= now:
        older, newest = newest, cron.next_after(newest)
    return older.astimezone(UTC), newest.astimezone(UTC)


def success_rate(succeeded: int, ended: int) -> float | None:
    """The share of ended runs that completed, ``None`` before any run ended."""
    return None if ended == 0 else succeeded / ended
