"""The calendar: each schedule's next firings and the runs of past days (ADR 0103).

A window is a month (six weeks) or a week of the viewer's days, in their time zone. A live
schedule's firings are its ticks after now (in its own zone, as the scheduler fires them),
each shown on the viewer's day that holds it; a paused one fires nothing until resumed. Runs
are counted on the day they were created, by status, whatever their number (quarter-hour
buckets, ``repositories.calendar``); a day lists its first runs and links to all of them.

The iCalendar feed of one schedule lists its next firings as events, for a team's calendar.
"""

import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from missionctl.db.models import Schedule
from missionctl.domain import calendar as cal
from missionctl.domain import ical
from missionctl.domain.files import FileAnswer
from missionctl.domain.schedules import Cron
from missionctl.domain.states import RunStatus
from missionctl.errors import NotFound
from missionctl.repositories import calendar as repo
from missionctl.repositories import schedules as schedule_repo
from missionctl.schemas.calendar import (
    MAX_FIRINGS_PER_SCHEDULE,
    MAX_RUNS_PER_DAY,
    CalendarDay,
    CalendarQuery,
    CalendarRead,
    CalendarRun,
    CalendarSchedule,
    Firing,
)
from missionctl.services.runtime.context import ServiceContext

__all__ = ["read_calendar", "schedule_feed"]

FEED_DAYS = 60
"""How far ahead a schedule's feed lists its firings."""


async def read_calendar(
    ctx: ServiceContext,
    *,
    view: cal.View = "month",
    date: date | None = None,
    tz: str = "UTC",
    now: datetime | None = None,
) -> CalendarRead:
    """The month or week holding ``date`` (today by default) of the viewer in zone ``tz``."""
    query = CalendarQuery(view=view, date=date, tz=tz)
    moment = now or datetime.now(UTC)
    anchor = query.date or cal.local_day(moment, query.tz)
    window = cal.window(query.view, anchor, query.tz)
    async with ctx.read() as session:
        return await session.run_sync(_read, window, moment)


def _read(session: Session, window: cal.Window, now: datetime) -> CalendarRead:
    schedules = list(schedule_repo.list_schedules(session))
    firings: dict[date, list[Firing]] = defaultdict(list)
    summaries = [_fire(schedule, window, now, firings) for schedule in schedules]
    counts = _day_counts(session, window)
    days = [_day(session, window, day, now, firings[day], counts[day]) for day in window.days]
    return CalendarRead(
        view=window.view,
        tz=window.zone,
        first=window.first,
        last=window.last,
        previous=window.shifted(-1),
        next=window.shifted(1),
        days=days,
        schedules=summaries,
    )


def _fire(
    schedule: Schedule, window: cal.Window, now: datetime, into: dict[date, list[Firing]]
) -> CalendarSchedule:
    """Add the schedule's firings in ``window`` after ``now`` to ``into``; its summary."""
    ticks: list[datetime] = []
    more = False
    if not schedule.paused and window.end > now:
        after = max(window.start - timedelta(microseconds=1), now)
        cron = Cron(schedule.cron, schedule.timezone)
        ticks, more = cal.firings(cron, after, window.end, MAX_FIRINGS_PER_SCHEDULE)
    for tick in ticks:
        local = tick.astimezone(cal.zone(window.zone))
        into[local.date()].append(
            Firing(
                schedule_id=schedule.id,
                schedule=schedule.name,
                at=tick,
                local_time=f"{local:%H:%M}",
            )
        )
    return CalendarSchedule(
        id=schedule.id,
        name=schedule.name,
        cron=schedule.cron,
        timezone=schedule.timezone,
        paused=schedule.paused,
        firings=len(ticks),
        more_firings=more,
    )


def _day_counts(session: Session, window: cal.Window) -> dict[date, Counter[str]]:
    """Runs created on each of the window's days, by status."""
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    for bucket in repo.quarter_counts(session, start=window.start, end=window.end):
        counts[window.day_of(bucket.start)][bucket.status] += bucket.runs
    return counts


def _day(
    session: Session,
    window: cal.Window,
    day: date,
    now: datetime,
    firings: list[Firing],
    counts: Counter[str],
) -> CalendarDay:
    start, end = window.day_range(day)
    total = sum(counts.values())
    runs = repo.day_runs(session, start=start, end=end, limit=MAX_RUNS_PER_DAY) if total else []
    return CalendarDay(
        date=day,
        in_view=window.view == "week" or day.month == window.anchor.month,
        today=day == window.day_of(now),
        firings=sorted(firings, key=lambda f: f.at),
        runs=[
            CalendarRun(
                id=r.id,
                status=RunStatus(r.status),
                name=r.name,
                trigger=r.trigger,
                created_at=r.created_at,
            )
            for r in runs
        ],
        run_count=total,
        runs_by_status={RunStatus(s): n for s, n in sorted(counts.items())},
        runs_url=runs_url(start, end),
    )


def runs_url(start: datetime, end: datetime) -> str:
    """The runs page filtered to runs created from ``start`` up to ``end``."""
    return "/runs?" + urlencode(
        {"created_after": start.isoformat(), "created_before": end.isoformat()}
    )


async def schedule_feed(
    ctx: ServiceContext, *, schedule_id: uuid.UUID, now: datetime | None = None
) -> FileAnswer:
    """The schedule's next firings for ``FEED_DAYS`` days as an iCalendar file (RFC 5545).

    Each firing is an event at its instant, in the schedule's own time zone, with a UID that
    stays the same for the same tick, so a calendar that polls the feed updates in place.

    Raises:
        NotFound: no such schedule (or it was deleted).
    """
    moment = now or datetime.now(UTC)
    async with ctx.read() as session:

        def read(sync: Session) -> Schedule:
            schedule = schedule_repo.read_schedule(sync, schedule_id=schedule_id)
            if schedule is None:
                raise NotFound(f"no schedule with id {schedule_id}", field="schedule_id")
            sync.expunge(schedule)
            return schedule

        schedule = await session.run_sync(read)
    ticks: list[datetime] = []
    if not schedule.paused:
        cron = Cron(schedule.cron, schedule.timezone)
        end = moment + timedelta(days=FEED_DAYS)
        ticks, _ = cal.firings(cron, moment, end, MAX_FIRINGS_PER_SCHEDULE)
    content = ical.schedule_feed(
        ical.FeedSchedule(schedule.id, schedule.name, schedule.cron, schedule.timezone),
        ticks,
        moment,
    )
    return FileAnswer(content, "text/calendar", name=f"schedule-{schedule_id}.ics", inline=True)
