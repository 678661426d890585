"""A schedule's next firings as an iCalendar file (RFC 5545), written by ``icalendar``.

Each firing is a short event at its instant, stated in the schedule's own time zone (with
the zone's definition in the file, so any calendar shows it right in the reader's zone). Its
UID is made of the schedule's id and the tick, so polling the feed again updates the same
events instead of adding new ones.
"""

import uuid
import zoneinfo
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from icalendar import Calendar, Event

PRODID = "-//Mission Control//Schedules//EN"
FIRING_LENGTH = timedelta(minutes=5)
"""How long a firing's event lasts in a calendar: a mark, not the run's duration."""


class FeedSchedule(NamedTuple):
    """What the feed says of a schedule."""

    id: uuid.UUID
    name: str
    cron: str
    zone: str


def schedule_feed(schedule: FeedSchedule, ticks: Sequence[datetime], now: datetime) -> bytes:
    """The calendar file of ``schedule``'s ``ticks`` (UTC instants), stamped ``now``."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Mission Control: {schedule.name}")
    calendar.add("x-wr-timezone", schedule.zone)
    for tick in ticks:
        calendar.add_component(_event(schedule, tick, now))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _event(schedule: FeedSchedule, tick: datetime, now: datetime) -> Event:
    local = tick.astimezone(zoneinfo.ZoneInfo(schedule.zone))
    event = Event()
    event.add("uid", f"{schedule.id}-{tick:%Y%m%dT%H%M%SZ}@missionctl")
    event.add("dtstamp", now)
    event.add("dtstart", local)
    event.add("dtend", local + FIRING_LENGTH)
    event.add("summary", f"{schedule.name} fires")
    event.add("description", f"Schedule {schedule.name} ({schedule.cron}, {schedule.zone})")
    return event
