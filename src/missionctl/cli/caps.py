"""``missionctl caps …``: spending caps per agent and per UTC day or month (ADR 0104).

Each command performs an operation declared in ``missionctl.operations.spending_caps``: on the
server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (setting and removing need an admin's
token), or on the local database. A cap is named by its agent and period. Tables fit 80
columns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import console, reporting_errors, validated_body
from missionctl.domain.money import usd_text
from missionctl.errors import NotFound

if TYPE_CHECKING:
    from missionctl.cli._backend import MissionControl
    from missionctl.schemas.spending_caps import SpendingCapRead

app = typer.Typer(
    help="Spending caps: what an agent's steps (or every agent's) may spend per UTC day or "
    "month. The engine holds a step that would pass a cap; nothing calls a model past one.",
    no_args_is_help=True,
)

OPTIONS = {"agent": "AGENT", "period": "--per", "cap_usd": "--usd"}

Agent = Annotated[
    str,
    typer.Argument(help="An agent (llm:writer), a kind (llm:*), or '*' for every agent."),
]
Per = Annotated[str, typer.Option("--per", help="The UTC period: day or month.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]

_LEVELS = {"warning": "[yellow]80 %[/yellow]", "reached": "[red]reached[/red]"}


def _who(agent: str) -> str:
    return "all agents" if agent == "*" else agent


def _line(cap: SpendingCapRead) -> str:
    level = f"  {_LEVELS[cap.level]}" if cap.level else ""
    held = f", holding {cap.held_steps} step{'s' if cap.held_steps != 1 else ''}"
    return (
        f"[bold]{escape(_who(cap.agent))}[/bold] per UTC {cap.period}: "
        f"{usd_text(cap.spent_usd)} of {usd_text(cap.cap_usd)} spent, "
        f"{usd_text(cap.left_usd)} left{held if cap.held_steps else ''}{level}"
    )


def _print(cap: SpendingCapRead, as_json: bool) -> None:
    if as_json:
        typer.echo(cap.model_dump_json(indent=2))
        return
    console.print(_line(cap))
    console.print(f"[dim]reopens {cap.reopens_at:%Y-%m-%d %H:%M} UTC · id {cap.id}[/dim]")


@app.command("list")
def list_(as_json: AsJson = False) -> None:
    """List the caps with this period's spending, what is left, and the steps they hold."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import spending_caps as ops

    with open_backend() as api:
        caps = api.call(ops.LIST)
    if as_json:
        typer.echo("[" + ",".join(c.model_dump_json() for c in caps) + "]")
        return
    if not caps:
        console.print("No spending caps. Set one: missionctl caps set 'llm:*' --per day --usd 5")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for column in ("agent", "per", "spent / cap", "left", "held", "level"):
        table.add_column(column, no_wrap=column != "agent", overflow="fold")
    for cap in caps:
        table.add_row(
            escape(_who(cap.agent)),
            cap.period,
            f"{usd_text(cap.spent_usd)} / {usd_text(cap.cap_usd)}",
            usd_text(cap.left_usd),
            str(cap.held_steps),
            _LEVELS.get(cap.level or "", "—"),
        )
    console.print(table)


@app.command("set")
def set_(
    agent: Agent,
    per: Per,
    usd: Annotated[Decimal, typer.Option("--usd", help="What it may spend in one period, in USD.")],
    as_json: AsJson = False,
) -> None:
    """Set the cap on AGENT per day or month (setting it again changes the amount)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import spending_caps as ops
    from missionctl.schemas.spending_caps import SpendingCapSet

    body = validated_body(
        SpendingCapSet, {"agent": agent, "period": per, "cap_usd": usd}, option_for=OPTIONS
    )
    with open_backend() as api:
        _print(api.call(ops.SET, body=body, options=OPTIONS), as_json)


@app.command()
def remove(agent: Agent, per: Per, as_json: AsJson = False) -> None:
    """Remove the cap on AGENT per day or month; the steps it held are released."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import spending_caps as ops

    with open_backend() as api:
        cap_id = _find(api, agent, per)
        _print(api.call(ops.REMOVE, cap_id=cap_id), as_json)


def _find(api: MissionControl, agent: str, per: str) -> Any:
    """The id of the cap on ``agent`` per ``per``; exits 1 when there is none."""
    from missionctl.operations import spending_caps as ops

    for cap in api.call(ops.LIST):
        if cap.agent == agent and cap.period == per:
            return cap.id
    with reporting_errors():
        raise NotFound(f"no cap on {agent} per {per} ({api.where}); see `missionctl caps list`")
    raise AssertionError("reporting_errors exits")
