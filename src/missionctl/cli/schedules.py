"""``missionctl schedule …``: cron schedules that start workflow and mission runs (ADR 0059).

Each command performs an operation declared in ``missionctl.operations.schedules``: on the
server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (adding, pausing, resuming, running and
deleting there need an operator's token), or on the local database. A schedule is named by
its name or its id.
"""

import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._input_pairs import json_inputs
from missionctl.cli._runtime import (
    console,
    report_validation_error,
    reporting_errors,
)
from missionctl.errors import NotFound

if TYPE_CHECKING:
    from missionctl.cli._backend import MissionControl
    from missionctl.schemas.schedules import ScheduleRead

app = typer.Typer(
    help="Schedules: cron expressions in a time zone that start a workflow's or a mission's "
    "runs, each tick once however many engines run.",
    no_args_is_help=True,
)

OPTIONS = {
    "name": "NAME",
    "cron": "--cron",
    "timezone": "--tz",
    "workflow_id": "--workflow",
    "mission_id": "--mission",
    "inputs": "--input",
    "budget_usd": "--budget-usd",
    "misfire_policy": "--misfire",
    "overlap_policy": "--overlap",
    "mission_action": "--plan-again",
}

ScheduleRef = Annotated[str, typer.Argument(help="The schedule's name or id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the schedule as JSON.")]


def _resolve(api: "MissionControl", ref: str) -> uuid.UUID:
    """The id of the schedule ``ref`` names (an id, a name, or an id's first digits).

    Exits 1 when none does.
    """
    from missionctl.cli._ids import id_by_name_or_digits
    from missionctl.operations import schedules as ops

    def named(name: str) -> uuid.UUID | None:
        return next((s.id for s in api.call(ops.LIST) if s.name == name), None)

    if (found := id_by_name_or_digits(api, "schedules", ref, named)) is not None:
        return found
    with reporting_errors():
        raise NotFound(f"no schedule called {ref!r} ({api.where}); see `missionctl schedule list`")
    raise AssertionError("reporting_errors exits")


def _workflow_id(api: "MissionControl", ref: str) -> uuid.UUID:
    """A workflow version's id: ``ref`` itself, or the newest version of the name ``ref``."""
    from missionctl.operations import workflows as workflow_ops

    try:
        return uuid.UUID(ref)
    except ValueError:
        return api.call(workflow_ops.BY_NAME, name=ref).id


def _when(schedule: "ScheduleRead") -> str:
    if schedule.paused:
        return "paused"
    return "—" if schedule.next_fire_at is None else f"{schedule.next_fire_at:%Y-%m-%d %H:%M}Z"


def _print(schedule: "ScheduleRead", as_json: bool = False) -> None:
    if as_json:
        typer.echo(schedule.model_dump_json())
        return
    target = schedule.workflow or f"mission {schedule.mission_id} ({schedule.mission_action})"
    console.print(
        f"[bold]{escape(schedule.name)}[/bold]  {escape(schedule.cron)} ({schedule.timezone})  "
        f"→ {escape(target)}  next: {_when(schedule)}"
    )
    if schedule.last_fired_at is not None:
        run = f" run {schedule.last_run_id}" if schedule.last_run_id else ""
        console.print(
            f"last: {schedule.last_outcome}{run} ({schedule.last_run_status or '—'}) "
            f"at {schedule.last_fired_at.isoformat()}"
        )
    if schedule.last_error:
        console.print(f"[yellow]last error:[/yellow] {escape(schedule.last_error)}")


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the schedules as JSON.")] = False,
) -> None:
    """List every schedule with its next run, last run and success rate."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops

    with open_backend() as api:
        schedules = api.call(ops.LIST)
    if as_json:
        typer.echo("[" + ",".join(s.model_dump_json() for s in schedules) + "]")
        return
    table = Table(title="Schedules", box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("name / starts", overflow="fold")  # whole, even folded: commands take it
    table.add_column("cron / zone", no_wrap=True)
    for column in ("next", "last", "success"):
        table.add_column(column, overflow="fold")
    for s in schedules:
        rate = "—" if s.success_rate is None else f"{s.success_rate:.0%} of {s.runs_ended}"
        target = escape(s.workflow or f"mission {s.mission_id}")
        table.add_row(
            f"{escape(s.name)}\n[dim]{target}[/dim]",
            f"{escape(s.cron)}\n[dim]{escape(s.timezone)}[/dim]",
            _when(s),
            f"{s.last_outcome or '—'} {s.last_run_status or ''}".strip(),
            rate,
        )
    console.print(table)


@app.command()
def show(ref: ScheduleRef, as_json: AsJson = False) -> None:
    """Show one schedule."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops

    with open_backend() as api:
        _print(api.call(ops.READ, schedule_id=_resolve(api, ref)), as_json)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="A name: letters, digits, '.', '_', '-'.")],
    cron: Annotated[
        str, typer.Option("--cron", help="Five fields, e.g. '0 9 * * MON-FRI', or @daily.")
    ],
    tz: Annotated[str, typer.Option("--tz", help="The IANA time zone, e.g. Europe/Paris.")] = "UTC",
    workflow: Annotated[
        str | None,
        typer.Option("--workflow", help="A workflow's name (its newest version) or version id."),
    ] = None,
    mission: Annotated[str | None, typer.Option("--mission", help="A mission's id.")] = None,
    plan_again: Annotated[
        bool, typer.Option("--plan-again", help="Plan the mission again before each run.")
    ] = False,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", help="A workflow input, NAME=VALUE; repeat.")
    ] = None,
    budget_usd: Annotated[
        Decimal | None, typer.Option("--budget-usd", help="A cap for each run, in USD.")
    ] = None,
    misfire: Annotated[
        str, typer.Option("--misfire", help="Missed ticks: skip, or run_once to catch up.")
    ] = "skip",
    overlap: Annotated[
        str,
        typer.Option("--overlap", help="While the previous run is active: skip, queue or allow."),
    ] = "skip",
    paused: Annotated[bool, typer.Option("--paused", help="Add it paused.")] = False,
    as_json: AsJson = False,
) -> None:
    """Add a schedule of a workflow (--workflow, with --input) or of a mission (--mission)."""
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops
    from missionctl.schemas.schedules import ScheduleCreate

    with open_backend() as api:
        data: dict[str, Any] = {
            "name": name,
            "cron": cron,
            "timezone": tz,
            "inputs": json_inputs(inputs or []),
            "budget_usd": budget_usd,
            "misfire_policy": misfire,
            "overlap_policy": overlap,
            "paused": paused,
        }
        if workflow is not None:
            data["workflow_id"] = _workflow_id(api, workflow)
        if mission is not None:
            data["mission_id"] = mission
            data["mission_action"] = "plan_again" if plan_again else "run"
        try:
            body = ScheduleCreate.model_validate(data)
        except ValidationError as exc:
            report_validation_error(exc, option_for=OPTIONS)
            return
        _print(api.call(ops.CREATE, body=body, options=OPTIONS), as_json)


@app.command()
def edit(
    ref: ScheduleRef,
    cron: Annotated[str | None, typer.Option("--cron", help="A new expression.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="A new time zone.")] = None,
    budget_usd: Annotated[
        Decimal | None, typer.Option("--budget-usd", help="A new cap for each run, in USD.")
    ] = None,
    no_budget: Annotated[
        bool, typer.Option("--no-budget", help="Remove the cap of each run.")
    ] = False,
    misfire: Annotated[str | None, typer.Option("--misfire", help="skip or run_once.")] = None,
    overlap: Annotated[str | None, typer.Option("--overlap", help="skip, queue or allow.")] = None,
) -> None:
    """Change a schedule: the options given (a new expression or zone ticks next after now)."""
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops
    from missionctl.schemas.schedules import ScheduleEdit

    given: dict[str, Any] = {
        key: value
        for key, value in {
            "cron": cron,
            "timezone": tz,
            "budget_usd": budget_usd,
            "misfire_policy": misfire,
            "overlap_policy": overlap,
        }.items()
        if value is not None
    }
    if no_budget:
        given["budget_usd"] = None
    try:
        body = ScheduleEdit.model_validate(given)
    except ValidationError as exc:
        report_validation_error(exc, option_for=OPTIONS)
        return
    with open_backend() as api:
        _print(api.call(ops.EDIT, schedule_id=_resolve(api, ref), body=body, options=OPTIONS))


@app.command()
def pause(ref: ScheduleRef) -> None:
    """Pause a schedule: no tick fires until it is resumed."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops

    with open_backend() as api:
        _print(api.call(ops.PAUSE, schedule_id=_resolve(api, ref)))


@app.command()
def resume(ref: ScheduleRef) -> None:
    """Resume a schedule; ticks missed meanwhile follow its misfire policy."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops

    with open_backend() as api:
        _print(api.call(ops.RESUME, schedule_id=_resolve(api, ref)))


@app.command("run-now")
def run_now(ref: ScheduleRef, as_json: AsJson = False) -> None:
    """Start a schedule's run now (paused or not); prints the run's id."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops

    with open_backend() as api:
        schedule = api.call(ops.RUN_NOW, schedule_id=_resolve(api, ref))
    _print(schedule, as_json)


@app.command()
def delete(ref: ScheduleRef) -> None:
    """Delete a schedule: it never fires again; the runs it started still name it."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import schedules as ops

    with open_backend() as api:
        api.call(ops.DELETE, schedule_id=_resolve(api, ref))
    console.print(f"schedule {escape(ref)} deleted")


@app.command()
def feed(
    ref: ScheduleRef,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the file here, not to stdout.")
    ] = None,
) -> None:
    """Print a schedule's next firings (60 days) as an iCalendar file, for a team's calendar.

    A calendar application reads the same file from GET /api/v1/schedules/ID/calendar.ics
    with an API token.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import calendar as calendar_ops

    with open_backend() as api:
        content = api.file(calendar_ops.FEED, schedule_id=_resolve(api, ref))
    if output is None:
        typer.echo(content.decode("utf-8"), nl=False)
        return
    output.write_bytes(content)
    console.print(f"wrote {output} ({len(content):,} bytes)")
