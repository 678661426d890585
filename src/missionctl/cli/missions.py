"""``missionctl mission …``."""

import json
import uuid
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from missionctl.cli._runtime import console, mission_from_options, run_service
from missionctl.domain.states import MissionStatus
from missionctl.errors import NotFound
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services import missions as mission_service
from missionctl.services.paging import MAX_PAGE_SIZE
from missionctl.services.plans import read_plan

app = typer.Typer(help="Create and inspect missions.", no_args_is_help=True)

_ACTOR = "user:local"


def _print_mission(mission: MissionRead) -> None:
    budget = "uncapped" if mission.budget_usd is None else f"${mission.budget_usd:,.2f}"
    console.print(f"[bold]{mission.title}[/bold]  [dim]{mission.id}[/dim]")
    console.print(f"status   {mission.status.value}")
    console.print(f"goal     {mission.goal}")
    if mission.constraints:
        console.print("constraints")
        for item in mission.constraints:
            console.print(f"  - {item}")
    if mission.repo_context:
        console.print(f"repo     {mission.repo_context}")
    console.print(f"budget   {budget}   spent ${mission.spent_usd:,.4f}")
    console.print(f"created  {mission.created_at:%Y-%m-%d %H:%M:%S}Z by {mission.created_by}")


@app.command()
def create(
    goal: Annotated[str, typer.Argument(help="The software goal, in plain words.")],
    title: Annotated[
        str | None, typer.Option(help="Short name (derived from the goal if omitted).")
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option("--constraint", "-c", help="A constraint; repeat for more."),
    ] = None,
    repo_context: Annotated[
        str, typer.Option(help="What exists already: repository, stack, conventions.")
    ] = "",
    budget_usd: Annotated[Decimal | None, typer.Option(help="Spending cap in US dollars.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the mission as JSON.")] = False,
) -> None:
    """Create a mission (status draft)."""
    data = mission_from_options(
        goal=goal,
        title=title,
        constraints=constraint,
        repo_context=repo_context,
        budget_usd=budget_usd,
    )
    mission = run_service(lambda ctx: mission_service.create_mission(ctx, data=data, actor=_ACTOR))
    if as_json:
        typer.echo(mission.model_dump_json(indent=2))
    else:
        console.print("[green]created[/green]")
        _print_mission(mission)


@app.command("list")
def list_missions(
    status: Annotated[
        MissionStatus | None, typer.Option(help="Only missions in this status.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Text in title or goal.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE_SIZE, help="Page size.")] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="`next_cursor` printed by the previous page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    """List missions, newest first."""
    page = run_service(
        lambda ctx: mission_service.read_missions(
            ctx, limit=limit, cursor=cursor, status=status, q=search
        )
    )
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    if not page.items:
        console.print('no missions yet — create one with: missionctl mission create "GOAL"')
        return
    table = Table(title=f"Missions ({page.total})")
    for column in ("id", "title", "status", "budget", "created"):
        table.add_column(column)
    for mission in page.items:
        table.add_row(
            str(mission.id),
            mission.title,
            mission.status.value,
            "—" if mission.budget_usd is None else f"${mission.budget_usd:,.2f}",
            f"{mission.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command()
def show(
    mission_id: Annotated[uuid.UUID, typer.Argument(help="The mission's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one mission."""
    mission = run_service(lambda ctx: mission_service.read_mission(ctx, mission_id=mission_id))
    plan = run_service(lambda ctx: _newest_plan(ctx, mission_id))
    if as_json:
        typer.echo(json.dumps(mission.model_dump(mode="json"), indent=2))
    else:
        _print_mission(mission)
        if plan is None:
            console.print("plan     none yet")
        else:
            source = "local planner" if plan.source == "local" else f"model {plan.source}"
            console.print(f"plan     v{plan.version} from the {source}, {len(plan.tasks)} tasks")


async def _newest_plan(ctx: ServiceContext, mission_id: uuid.UUID) -> PlanRead | None:
    try:
        return await read_plan(ctx, mission_id=mission_id)
    except NotFound:
        return None
