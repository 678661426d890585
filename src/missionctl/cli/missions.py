"""``missionctl mission …``: on the local database, or on a server (``MISSIONCTL_URL``).

With ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, every command here goes through the
server's ``/api/v1/missions`` as ``token:NAME`` (``missionctl.cli.remote``); otherwise it works
on the local database as ``system``. Both paths print the same output and exit codes.
"""

# Schemas, services and the engine are imported where used, so `missionctl --help` stays fast;
# annotations naming them stay strings.
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import console, mission_from_options, run_service
from missionctl.cli.remote import connect
from missionctl.domain.states import MissionStatus
from missionctl.errors import NotFound

if TYPE_CHECKING:
    from missionctl.schemas.missions import MissionRead
    from missionctl.schemas.plans import PlanRead
    from missionctl.services import ServiceContext

app = typer.Typer(
    help="Create and inspect missions (on the server at MISSIONCTL_URL when it is set).",
    no_args_is_help=True,
)

# Working on the local database directly is acting as the system itself (ADR 0010); a
# remote CLI (MISSIONCTL_URL) acts as its token instead, which the server records.
_ACTOR = "system"
_MISSIONS = "/api/v1/missions"
# ``services.paging.MAX_PAGE_SIZE``, spelt out so that ``--help`` does not import the services
# (tests/cli/test_startup.py checks that the two agree).
MAX_PAGE_SIZE = 200


def _print_mission(mission: MissionRead) -> None:
    budget = "uncapped" if mission.budget_usd is None else f"${mission.budget_usd:,.2f}"
    # Text users typed (possibly on another server) is escaped: Rich would read "[...]" as markup.
    console.print(f"[bold]{escape(mission.title)}[/bold]  [dim]{mission.id}[/dim]")
    console.print(f"status   {mission.status.value}")
    console.print(f"goal     {escape(mission.goal)}")
    if mission.constraints:
        console.print("constraints")
        for item in mission.constraints:
            console.print(f"  - {escape(item)}")
    if mission.repo_context:
        console.print(f"repo     {escape(mission.repo_context)}")
    console.print(f"budget   {budget}   spent ${mission.spent_usd:,.4f}")
    console.print(
        f"created  {mission.created_at:%Y-%m-%d %H:%M:%S}Z by {escape(mission.created_by)}"
    )


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
    from missionctl.schemas.missions import MissionRead

    data = mission_from_options(
        goal=goal,
        title=title,
        constraints=constraint,
        repo_context=repo_context,
        budget_usd=budget_usd,
    )
    remote = connect()
    if remote is None:
        from missionctl.services import missions as mission_service

        mission = run_service(
            lambda ctx: mission_service.create_mission(ctx, data=data, actor=_ACTOR)
        )
    else:
        with remote:
            mission = remote.post(_MISSIONS, MissionRead, body=data)
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
    from missionctl.schemas.missions import MissionPage

    remote = connect()
    if remote is None:
        from missionctl.services import missions as mission_service

        page = run_service(
            lambda ctx: mission_service.read_missions(
                ctx, limit=limit, cursor=cursor, status=status, q=search
            )
        )
    else:
        with remote:
            page = remote.get(
                _MISSIONS,
                MissionPage,
                params={
                    "limit": limit,
                    "cursor": cursor,
                    "status": None if status is None else status.value,
                    "q": search,
                },
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
            escape(mission.title),
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
    from missionctl.schemas.missions import MissionRead
    from missionctl.schemas.plans import PlanRead

    remote = connect()
    plan: PlanRead | None
    if remote is None:
        from missionctl.services import missions as mission_service

        mission = run_service(lambda ctx: mission_service.read_mission(ctx, mission_id=mission_id))
        plan = run_service(lambda ctx: _newest_plan(ctx, mission_id))
    else:
        with remote:
            mission = remote.get(f"{_MISSIONS}/{mission_id}", MissionRead)
            plan = remote.get_or_none(f"{_MISSIONS}/{mission_id}/plan", PlanRead)
    if as_json:
        typer.echo(json.dumps(mission.model_dump(mode="json"), indent=2))
    else:
        _print_mission(mission)
        if plan is None:
            console.print("plan     none yet")
        else:
            source = "local planner" if plan.source == "local" else f"model {plan.source}"
            console.print(
                f"plan     v{plan.version} from the {escape(source)}, {len(plan.tasks)} tasks"
            )


async def _newest_plan(ctx: ServiceContext, mission_id: uuid.UUID) -> PlanRead | None:
    from missionctl.services.plans import read_plan

    try:
        return await read_plan(ctx, mission_id=mission_id)
    except NotFound:
        return None
