"""The calendar page: a month or a week of the viewer's days, with firings and runs, live.

- ``GET /calendar?view=month|week&date=YYYY-MM-DD&tz=Area/City&day=YYYY-MM-DD``: the grid
  (``workflows:read``, as the schedules it shows). ``tz`` is the viewer's zone: without it the
  page is in UTC and says so, and ``static/js/calendar.js`` reloads it in the browser's zone.
  ``day`` opens that day's detail: its firings, its first runs and a link to all of them. For
  htmx (previous, next, a view, a day) only the calendar and the live element come back.
- ``GET /calendar/stream``: the grid again, same window, after each run or schedule event
  (``web/live_lists.py``).

A malformed ``view``, ``date``, ``tz`` or ``day`` is a 422 naming the parameter.
"""

import functools
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sse_starlette import EventSourceResponse

from missionctl.domain.states import RunStatus
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.calendar import ZONE_MAX_CHARS, CalendarDay, CalendarQuery, CalendarRead
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.usecases import calendar as calendar_service
from missionctl.services.usecases import dashboard
from missionctl.web.deps import MAX_SEQ, Context, Fragment, P, requires
from missionctl.web.live_lists import list_stream
from missionctl.web.templating import render, render_fragment

PAGE = "pages/calendar.html"
URL = "/calendar"
CALENDAR_EVENTS = ("run.", "schedule.")
"""Prefixes of the event types that can change a day: a run created or ended, a schedule
saved, paused, resumed or deleted."""
MONTH_FIRINGS = 3
"""The firings a day of the month grid lists before "+N more" (the day's detail lists them)."""
WEEK_FIRINGS = 12
DETAIL_FIRINGS = 50
DASH = "\N{EN DASH}"

RUN_GROUPS: tuple[tuple[str, str, frozenset[RunStatus]], ...] = (
    ("completed", "completed", frozenset({RunStatus.completed})),
    ("failed", "failed", frozenset({RunStatus.failed})),
    ("stopped", "canceled or aborted", frozenset({RunStatus.canceled, RunStatus.aborted})),
    (
        "active",
        "running or waiting",
        frozenset({RunStatus.pending, RunStatus.running, RunStatus.paused}),
    ),
)
"""The colours of a day's runs: its key, the words beside a count, the statuses it holds."""

router = APIRouter(route_class=GuardedRoute)

Text = Annotated[str, Query(max_length=ZONE_MAX_CHARS, pattern=NO_NUL_PATTERN)]


@dataclass(frozen=True, slots=True)
class Params:
    """The page's URL parameters, valid: the window, and the day whose detail is open."""

    query: CalendarQuery
    chosen_zone: bool
    day: date | None

    def url(self, path: str = URL, **changes: object) -> str:
        """``path`` with these parameters, ``changes`` applied (``None`` leaves one out)."""
        shown: dict[str, object] = {
            "view": self.query.view,
            "date": self.query.date,
            "tz": self.query.tz if self.chosen_zone else None,
            "day": self.day,
            **changes,
        }
        params = {name: str(value) for name, value in shown.items() if value is not None}
        return f"{path}?{urlencode(params)}" if params else path


def _params(view: str, day_text: str, tz: str, day: str) -> Params:
    """The parameters from the URL (empty: the default).

    Raises:
        ValidationFailed: one is malformed (a 422 naming its URL parameter).
    """
    problems: list[Problem] = []
    query = CalendarQuery(view="month")
    try:
        query = CalendarQuery.model_validate(
            {"view": view or "month", "date": day_text or None, "tz": tz or "UTC"}
        )
    except ValidationError as exc:
        problems += [Problem(str(e["loc"][0]), e["msg"]) for e in exc.errors()]
    opened = _day(day) if day else None
    if day and opened is None:
        problems.append(Problem("day", "write a day that exists as YYYY-MM-DD"))
    if problems:
        raise ValidationFailed(problems)
    return Params(query, bool(tz), opened)


def _day(text: str) -> date | None:
    """The day ``text`` names as YYYY-MM-DD, or ``None``."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def run_groups(counts: Mapping[RunStatus, int]) -> list[tuple[str, str, int]]:
    """A day's runs by colour, ``(key, words, count)``, the colours with none left out."""
    groups = [
        (key, words, sum(counts.get(s, 0) for s in statuses)) for key, words, statuses in RUN_GROUPS
    ]
    return [group for group in groups if group[2]]


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones a person picks from: ``Area/City`` names and UTC, sorted."""
    names = {
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and name[0].isupper() and not name.startswith(("Etc/", "SystemV/", "US/"))
    }
    return ("UTC", *sorted(names))


def _heading(read: CalendarRead, anchor: date) -> str:
    if read.view == "month":
        return f"{anchor:%B %Y}"
    if read.first.year != read.last.year:
        return f"{read.first:%-d %b %Y} {DASH} {read.last:%-d %b %Y}"
    if read.first.month != read.last.month:
        return f"{read.first:%-d %b} {DASH} {read.last:%-d %b %Y}"
    return f"{read.first:%-d} {DASH} {read.last:%-d %b %Y}"


def _has_something(day: CalendarDay) -> bool:
    return bool(day.firings or day.run_count)


def _context(read: CalendarRead, params: Params) -> dict[str, Any]:
    anchor = next(d.date for d in read.days if d.in_view)
    opened = next((d for d in read.days if d.date == params.day), None)
    zone = zoneinfo.ZoneInfo(read.tz)
    run_times = {
        run.id: f"{run.created_at.astimezone(zone):%H:%M}"
        for run in (opened.runs if opened else [])
    }
    return {
        "cal": read,
        "params": params,
        "heading": _heading(read, anchor),
        "opened": opened,
        "run_times": run_times,
        "run_groups": run_groups,
        "legend": [(key, words) for key, words, _ in RUN_GROUPS],
        "firing_limit": MONTH_FIRINGS if read.view == "month" else WEEK_FIRINGS,
        "detail_firings": DETAIL_FIRINGS,
        "anything_in_view": any(_has_something(d) for d in read.days if d.in_view),
        "empty": not read.schedules and not any(d.run_count for d in read.days),
        # Links keep the window: a day opened in a month's grid stays in that month.
        "here": lambda **changes: params.url(**({"date": anchor} | changes)),
        "toggle_date": params.day or next((d.date for d in read.days if d.today), None) or anchor,
    }


async def _read(ctx: ServiceContext, params: Params) -> CalendarRead:
    query = params.query
    return await calendar_service.read_calendar(ctx, view=query.view, date=query.date, tz=query.tz)


@router.get(URL, dependencies=[requires(P.WORKFLOWS_READ)])
async def calendar_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    view: Text = "",
    date: Text = "",
    tz: Text = "",
    day: Text = "",
) -> Response:
    """The month or week; for htmx (another window or day), only the calendar and live element."""
    params = _params(view, date, tz, day)
    after = await dashboard.read_head_seq(ctx)  # before the read: see read_head_seq
    context = _context(await _read(ctx, params), params)
    context["stream_url"] = params.url(f"{URL}/stream", after=after)
    if not fragment:
        context["zones"] = zone_names()
    return render(request, PAGE, context, block="calendar_update" if fragment else None)


@router.get(f"{URL}/stream", dependencies=[requires(P.WORKFLOWS_READ)])
async def calendar_stream(
    request: Request,
    ctx: Context,
    view: Text = "",
    date: Text = "",
    tz: Text = "",
    day: Text = "",
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The calendar's live stream: its days again (same window) after each run or schedule event."""
    params = _params(view, date, tz, day)

    async def render_days() -> str:
        return render_fragment(PAGE, "calendar_live", _context(await _read(ctx, params), params))

    return await list_stream(
        ctx, request, after=after, render_list=render_days, prefixes=CALENDAR_EVENTS
    )


__all__ = ["router", "run_groups", "zone_names"]
