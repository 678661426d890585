"""``missionctl costs``: tokens and spend of a run, a mission, a workflow or everything.

On the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN``.
"""

from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import EXIT_INVALID, console, err_console
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from missionctl.schemas.costs import CostBreakdown, CostLine

Grouping = Literal["agent", "model", "role", "requirement"]
# The CLI's option for each field of the query, for error messages.
_OPTIONS = {"scope": "--run/--mission/--workflow", "id": "--run/--mission/--workflow"}


def costs(
    run: Annotated[str | None, typer.Option("--run", help="A run's id.")] = None,
    mission: Annotated[str | None, typer.Option("--mission", help="A mission's id.")] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="A workflow's name (every version).")
    ] = None,
    by: Annotated[Grouping, typer.Option("--by", help="How to group the spend.")] = "agent",
    bucket: Annotated[
        Literal["hour", "day"], typer.Option("--bucket", help="Time series buckets (UTC).")
    ] = "hour",
    since: Annotated[
        str | None, typer.Option("--since", help="Spend dated at or after (ISO 8601, UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Spend dated before (ISO 8601, UTC).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the breakdown as JSON.")] = False,
) -> None:
    """Show tokens and spend grouped by agent, model, role or requirement, with the burn rate.

    Without --run, --mission or --workflow: the whole system. A task tracing several
    requirements has its cost split evenly between them; planning and clarifying show as
    "(outside runs)". Exits 2 on invalid input (naming the option), 1 when the run, mission or
    workflow does not exist.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.errors import ValidationFailed
    from missionctl.operations import costs as ops
    from missionctl.services.usecases.costs import parse_cost_query

    chosen = [(s, v) for s, v in (("run", run), ("mission", mission), ("workflow", workflow)) if v]
    if len(chosen) > 1:
        err_console.print("[red]error:[/red] give at most one of --run, --mission, --workflow")
        raise typer.Exit(EXIT_INVALID)
    scope, scope_id = chosen[0] if chosen else ("system", None)
    raw = {"scope": scope, "id": scope_id, "bucket": bucket, "since": since, "until": until}
    try:
        query = parse_cost_query(raw)
    except ValidationFailed as exc:
        for problem in exc.problems:
            option = _OPTIONS.get(problem.field or "", f"--{problem.field}")
            err_console.print(f"[red]error:[/red] {option}: {escape(problem.message)}")
        raise typer.Exit(EXIT_INVALID) from None
    with open_backend() as api:
        breakdown = api.call(ops.READ, query=query)
    if as_json:
        typer.echo(breakdown.model_dump_json())
        return
    _print(breakdown, by)


def _print(breakdown: "CostBreakdown", by: Grouping) -> None:
    budget = breakdown.budget
    cap = (
        "no cap" if budget.cap_usd is None else f"of {usd_text(budget.cap_usd)} ({budget.used:.0%})"
    )
    console.print(
        f"[bold]{escape(breakdown.title)}[/bold]  {usd_text(breakdown.cost_usd)}  "
        f"tokens in/out {breakdown.input_tokens}/{breakdown.output_tokens}  "
        f"runs {breakdown.runs}  budget {usd_text(budget.spent_usd)} {cap}"
    )
    rate = breakdown.burn_rate
    console.print(
        f"burn rate {usd_text(rate.last_hour_usd_per_hour)}/h over the last hour, "
        f"{usd_text(rate.last_day_usd_per_hour)}/h over the last 24 h"
    )
    lines: list[CostLine] | None = getattr(breakdown, f"by_{by}")
    if lines is None:
        console.print(f"no breakdown by {by} for scope {breakdown.scope}: use --run or --mission")
        return
    table = Table(title=f"Cost by {by}")
    for column in (by, "steps", "tokens in", "tokens out", "cost"):
        table.add_column(column)
    for line in lines:
        table.add_row(
            escape(line.label),
            str(line.steps),
            str(line.input_tokens),
            str(line.output_tokens),
            usd_text(line.cost_usd),
        )
    console.print(table)
    if by == "requirement":
        console.print(breakdown.requirement_split)
