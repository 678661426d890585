"""``missionctl calendar``: a month or a week of schedules' firings and runs, day by day.

The calendar of ``GET /api/v1/calendar`` and the ``/calendar`` page, as one line per day that
has something (firings to come, runs created), in the time zone ``--tz`` names, within 80
columns. ``--json`` prints the API's answer. A schedule's iCalendar feed is
``missionctl schedule feed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from missionctl.cli._runtime import console, report_validation_error

if TYPE_CHECKING:
    from missionctl.schemas.calendar import CalendarDay, CalendarRead

OPTIONS = {"date": "--date", "tz": "--tz", "view": "--week"}
_FIRINGS_SHOWN = 3
_STATUS_STYLE = {"completed": "green", "failed": "red", "canceled": "yellow", "aborted": "red"}


def calendar(
    week: Annotated[bool, typer.Option("--week", help="A week instead of a month.")] = False,
    day: Annotated[
        str | None,
        typer.Option("--date", help="A day of the month or week to show, YYYY-MM-DD (today)."),
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Your IANA time zone, e.g. Europe/Paris: days are its.")
    ] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each schedule's next firings and the runs of each day, for a month or a week.

    Firings come from each live schedule's cron in its own time zone, shown in yours; runs
    are counted on the day they were created, by status. Exits 2 for a bad date or zone.
    """
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import calendar as ops
    from missionctl.schemas.calendar import CalendarQuery

    values: dict[str, Any] = {"view": "week" if week else "month", "date": day, "tz": tz}
    try:
        query = CalendarQuery.model_validate(values)
    except ValidationError as exc:
        report_validation_error(exc, option_for=OPTIONS)
        return
    with open_backend() as api:
        found = api.call(ops.READ, query=query, options=OPTIONS)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    _print(found)


def _print(found: CalendarRead) -> None:
    title = _title(found)
    console.print(f"[bold]{title}[/bold]  ({found.tz}, {found.first} to {found.last})")
    shown = [d for d in found.days if d.firings or d.run_count or d.today]
    for day in shown:
        console.print(_line(day), highlight=False)
    if not any(d.firings or d.run_count for d in found.days):
        console.print("Nothing fired, ran or is due in this window.")
    paused = [s.name for s in found.schedules if s.paused]
    if paused:
        console.print(f"[dim]paused, firing nothing: {escape(', '.join(paused))}[/dim]")


def _title(found: CalendarRead) -> str:
    if found.view == "week":
        return f"Week of {found.first:%a %d %b %Y}"
    anchor = next(d.date for d in found.days if d.in_view)
    return f"{anchor:%B %Y}"


def _line(day: CalendarDay) -> str:
    label = f"{day.date:%a %d %b}" + ("  [bold]today[/bold]" if day.today else "       ")
    parts = []
    if day.run_count:
        statuses = ", ".join(
            f"[{_STATUS_STYLE.get(s, 'white')}]{n} {s}[/]" for s, n in day.runs_by_status.items()
        )
        noun = "run" if day.run_count == 1 else "runs"
        parts.append(f"{day.run_count} {noun}: {statuses}")
    if day.firings:
        times = ", ".join(
            f"{escape(f.schedule[:20])} {f.local_time}" for f in day.firings[:_FIRINGS_SHOWN]
        )
        more = len(day.firings) - _FIRINGS_SHOWN
        parts.append(f"fires {times}" + (f" (+{more})" if more > 0 else ""))
    return f"{label}  " + " · ".join(parts)
