"""``missionctl agents …``: which agents may run, and at which risk tiers.

A disabled or restricted agent holds its queued steps back (with the reason on the step) until
a change allows them; nothing fails. On the local database changes are recorded as ``system``.
"""

from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import EXIT_INVALID, console, err_console, run_service
from missionctl.schemas.governance import AgentRead, AgentUpdate
from missionctl.services.agents import list_agents, update_agent

app = typer.Typer(
    help="Agents and their restrictions: disable one, or limit it to some risk tiers.",
    no_args_is_help=True,
)

_ACTOR = "system"

Name = Annotated[
    str,
    typer.Argument(help="`command`, `builtin:<role>`, `llm:<role>`, or `llm:*` for every llm."),
]


class Tier(StrEnum):
    """A step's risk tier."""

    READ = "read"
    WRITE = "write"
    IRREVERSIBLE = "irreversible"


def _tiers(agent: AgentRead) -> str:
    return ", ".join(agent.allowed_risk_tiers) or "all"


def _print(agent: AgentRead) -> None:
    state = "[green]enabled[/green]" if agent.enabled else "[red]disabled[/red]"
    console.print(
        f"[bold]{escape(agent.name)}[/bold]  {state}  tiers: {_tiers(agent)}  "
        f"held steps: {agent.held_steps}"
    )


def _update(name: str, data: AgentUpdate) -> None:
    _print(run_service(lambda ctx: update_agent(ctx, name=name, data=data, actor=_ACTOR)))


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the agents as JSON.")] = False,
) -> None:
    """List agents with their state, allowed tiers and held steps."""
    agents = run_service(list_agents)
    if as_json:
        typer.echo("[" + ",".join(a.model_dump_json() for a in agents) + "]")
        return
    table = Table(title="Agents")
    for column in ("name", "kind", "state", "tiers", "held steps", "changed"):
        table.add_column(column)
    for agent in agents:
        table.add_row(
            escape(agent.name),
            agent.kind,
            "enabled" if agent.enabled else "[red]disabled[/red]",
            _tiers(agent),
            str(agent.held_steps),
            f"{agent.updated_at:%Y-%m-%d %H:%M}" if agent.updated_at else "—",
        )
    console.print(table)


@app.command()
def disable(name: Name) -> None:
    """Disable an agent: its queued steps are held (not failed) until it is enabled."""
    _update(name, AgentUpdate(enabled=False))


@app.command()
def enable(name: Name) -> None:
    """Enable an agent: the steps it held and now may run are released."""
    _update(name, AgentUpdate(enabled=True))


@app.command()
def restrict(
    name: Name,
    tier: Annotated[
        list[Tier] | None,
        typer.Option("--tier", help="A risk tier the agent may run; repeat for more."),
    ] = None,
    all_tiers: Annotated[
        bool, typer.Option("--all-tiers", help="Allow every tier again (clear the limit).")
    ] = False,
) -> None:
    """Limit an agent to some risk tiers; steps of other tiers are held until allowed."""
    if bool(tier) == all_tiers:
        err_console.print("[red]error:[/red] give either --tier (one or more) or --all-tiers")
        raise typer.Exit(EXIT_INVALID)
    tiers = [] if all_tiers else [t.value for t in tier or []]
    _update(name, AgentUpdate(allowed_risk_tiers=tiers))  # type: ignore[arg-type]
