"""The calendar's windows and a schedule's firings in one (ADR 0103).

A month view is the six weeks (Monday first) that hold the month's first day; a week view
is the seven days from the Monday of the anchor's week. Days are the viewer's, in their time
zone; a firing is a schedule's tick (``Cron.next_after``, in the schedule's own zone), an
instant shown on the viewer's day that holds it. Nothing here reads the clock.
"""

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal

from missionctl.domain.schedules import Cron

View = Literal["month", "week"]
VIEWS: Final[tuple[View, ...]] = ("month", "week")
MONTH_WEEKS: Final = 6


@dataclass(frozen=True, slots=True)
class Window:
    """The days a view shows, ``first`` to ``last`` inclusive, in time zone ``zone``.

    ``start`` and ``end`` are the UTC instants of the first day's midnight and of the midnight
    after the last day (a half-open range).
    """

    view: View
    zone: str
    anchor: date
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        """Every day of the window, in order."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> datetime:
        """The first day's first instant, in UTC."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the last day, in UTC."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def day_of(self, moment: datetime) -> date:
        """The viewer's day that holds ``moment`` (aware)."""
        return local_day(moment, self.zone)

    def day_range(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants of ``day``'s midnight and the next one, in the viewer's zone."""
        return _midnight(day, self.zone), _midnight(day + timedelta(days=1), self.zone)

    def shifted(self, steps: int) -> date:
        """The anchor of the window ``steps`` views later (earlier when negative)."""
        if self.view == "week":
            return self.anchor + timedelta(weeks=steps)
        month = self.anchor.year * 12 + self.anchor.month - 1 + steps
        return date(month // 12, month % 12 + 1, 1)


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The time zone called ``name`` (a valid IANA name)."""
    return zoneinfo.ZoneInfo(name)


def local_day(moment: datetime, zone_name: str) -> date:
    """The day in zone ``zone_name`` that holds ``moment`` (aware)."""
    return moment.astimezone(zone(zone_name)).date()


def window(view: View, anchor: date, zone: str) -> Window:
    """The window of ``view`` that holds ``anchor``, in ``zone`` (a valid IANA name)."""
    if view == "week":
        first = _monday(anchor)
        return Window(view, zone, anchor, first, first + timedelta(days=6))
    first = _monday(anchor.replace(day=1))
    return Window(
        view,
        zone,
        anchor.replace(day=1),
        first,
        first + timedelta(weeks=MONTH_WEEKS) - timedelta(days=1),
    )


def firings(
    cron: Cron, after: datetime, before: datetime, limit: int
) -> tuple[list[datetime], bool]:
    """The ticks of ``cron`` strictly after ``after`` and before ``before`` (UTC).

    At most ``limit`` of them, and whether more were left out.
    """
    ticks: list[datetime] = []
    for tick in _ticks(cron, after):
        if tick >= before:
            return ticks, False
        if len(ticks) == limit:
            return ticks, True
        ticks.append(tick)
    return ticks, False  # pragma: no cover - a cron expression ticks forever


def _ticks(cron: Cron, after: datetime) -> Iterator[datetime]:
    moment = after
    while True:
        moment = cron.next_after(moment)
        yield moment


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _midnight(day: date, zone: str) -> datetime:
    """The UTC instant of ``day``'s first moment in ``zone``.

    Its 00:00, or the first instant after a midnight the clocks skipped.
    """
    local = datetime.combine(day, time(), tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(UTC)
