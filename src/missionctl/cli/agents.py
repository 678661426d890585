"""``missionctl agents …``: which agents may run, at which risk tiers, and which programs.

A disabled or restricted agent holds its queued steps back (with the reason on the step) until
a change allows them; nothing fails. ``allow`` and ``disallow`` change the command agent's
allow-list: a program not on it (a command step's, or a coding step's CLI) waits for an
approver. ``allow-repository`` and ``disallow-repository`` change the repositories coding
steps may work on (none until an admin allows one). On the local database changes are
recorded as ``system``; with ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, they are made on
that server as the token (an admin's). ``utilisation`` shows how much each agent worked over
the last hour, day or week.
"""

# Schemas, services and the engine are imported where used, so `missionctl --help` stays fast;
# annotations naming them stay strings.
from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import EXIT_INVALID, console, err_console

app = typer.Typer(
    help="Agents and their restrictions: disable one, limit it to some risk tiers, list the "
    "programs command and coding steps run without an approver and the repositories coding "
    "steps may work on; and how much each worked (utilisation).",
    no_args_is_help=True,
)

if TYPE_CHECKING:
    from missionctl.schemas.governance import AgentRead, AgentUpdate

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


def _update(name: str, data: AgentUpdate) -> AgentRead:
    """Send the fields ``data`` sets (``operations.agents.UPDATE``); print the agent."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import agents as ops

    with open_backend() as api:
        agent = api.call(ops.UPDATE, body=data, name=name)
    _print(agent)
    return agent


def _programs(agent: AgentRead) -> None:
    if not agent.allowed_programs:
        console.print(
            f"{escape(agent.name)} runs no program without an approver (no program allowed)."
        )
        return
    table = Table(title=f"Programs {agent.name} steps run without an approver")
    for column in ("program", "tier", "network", "env"):
        table.add_column(column)
    for program, entry in agent.allowed_programs.items():
        table.add_row(
            escape(program),
            entry.tier,
            "yes" if entry.network else "no",
            escape(", ".join(entry.env)) or "—",
        )
    console.print(table)


def _repositories(agent: AgentRead) -> None:
    if not agent.allowed_repositories:
        console.print(
            "Coding steps may work on no repository (none allowed): run "
            "`missionctl agents allow-repository SOURCE` to allow one."
        )
        return
    table = Table(title="Repositories coding steps may work on")
    table.add_column("repository (a path allows what is under it)")
    for source in agent.allowed_repositories:
        table.add_row(escape(source))
    console.print(table)


def _programs_change(changes: dict[str, Any], key: str = "allowed_programs") -> AgentUpdate:
    """The change, or exit 2 naming what is wrong with the program (or repository)."""
    from pydantic import ValidationError

    from missionctl.schemas.governance import AgentUpdate

    try:
        return AgentUpdate.model_validate({key: changes})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            err_console.print(f"[red]error:[/red] {escape(where)}: {escape(error['msg'])}")
        raise typer.Exit(EXIT_INVALID) from exc


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the agents as JSON.")] = False,
) -> None:
    """List agents with their state, allowed tiers and held steps."""
    from missionctl.cli._backend import open_backend
    from missionctl.domain.governance import CODING_RULE
    from missionctl.domain.workflows import COMMAND_AGENT
    from missionctl.operations import agents as ops

    with open_backend() as api:
        agents = api.call(ops.LIST)
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
    for agent in agents:
        if agent.name == COMMAND_AGENT:
            _programs(agent)
    for agent in agents:
        if agent.name == CODING_RULE:
            _repositories(agent)


class Window(StrEnum):
    """How far back utilisation looks."""

    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"


@app.command()
def utilisation(
    window: Annotated[
        Window, typer.Option("--window", help="How far back from now: 1h, 24h or 7d.")
    ] = Window.DAY,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Per agent: executions, average and p95 duration, failure rate, tokens, cost and busy %.

    Busy % is the seconds the agent's steps ran inside the window, summed, over the window's
    seconds: 100% is one step running all the time on average, more when several ran at once.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import agents as ops

    with open_backend() as api:
        report = api.call(ops.UTILISATION, query=ops.UtilisationQuery(window=window.value))
    if as_json:
        typer.echo(report.model_dump_json())
        return
    table = Table(title=f"Agent utilisation, last {window.value}", caption=report.busy_definition)
    columns = ("agent", "executions", "failed", "avg s", "p95 s", "tokens", "cost $", "busy %")
    table.add_column(columns[0], no_wrap=True)  # a name cut in two could not be searched for
    for column in columns[1:]:
        table.add_column(column, justify="right")
    for line in report.agents:
        table.add_row(
            escape(line.agent),
            str(line.executions),
            f"{line.failure_rate:.0%}",
            f"{line.avg_duration_s:.2f}",
            f"{line.p95_duration_s:.2f}",
            str(line.tokens),
            f"{line.cost_micros / 1_000_000:.4f}",
            f"{line.busy_pct:.1f}",
        )
    if not report.agents:
        console.print(f"No agent ran a step in the last {window.value}.")
        return
    console.print(table)


@app.command()
def disable(name: Name) -> None:
    """Disable an agent: its queued steps are held (not failed) until it is enabled."""
    from missionctl.schemas.governance import AgentUpdate

    _update(name, AgentUpdate(enabled=False))


@app.command()
def enable(name: Name) -> None:
    """Enable an agent: the steps it held and now may run are released."""
    from missionctl.schemas.governance import AgentUpdate

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
    from missionctl.schemas.governance import AgentUpdate

    if bool(tier) == all_tiers:
        err_console.print("[red]error:[/red] give either --tier (one or more) or --all-tiers")
        raise typer.Exit(EXIT_INVALID)
    tiers = [] if all_tiers else [t.value for t in tier or []]
    _update(name, AgentUpdate.model_validate({"allowed_risk_tiers": tiers}))


Program = Annotated[
    str,
    typer.Argument(
        help="argv[0] exactly as steps write it: a bare name (pytest) or an absolute path "
        "(/usr/bin/make). ./pytest or another path in the workspace never matches it."
    ),
]


@app.command()
def allow(
    program: Program,
    tier: Annotated[
        Tier,
        typer.Option(
            "--tier",
            help="The lowest tier its steps run at; only read runs without an approver.",
        ),
    ],
    network: Annotated[
        bool,
        typer.Option("--network", help="Its steps may ask for the network without an approver."),
    ] = False,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            metavar="NAME",
            help="An environment variable its steps may set without an approver (API_URL); "
            "repeat for more. CI, LANG, LC_*, TZ, NO_COLOR, FORCE_COLOR and TERM need no "
            "listing; any other variable makes a step wait for an approver.",
        ),
    ] = None,
) -> None:
    """Allow-list a program: command steps run it at TIER (or their own, if higher).

    Giving a listed program again replaces its entry (its tier, network and variables). The
    list also judges the program an mcp step starts as its server (server.command), and a
    coding step's CLI (its preset's, or coding:generic's argv) and test command.
    """
    from missionctl.domain.workflows import COMMAND_AGENT

    entry = {"tier": tier.value, "network": network, "env": list(env or [])}
    agent = _update(COMMAND_AGENT, _programs_change({program: entry}))
    _programs(agent)


@app.command()
def disallow(program: Program) -> None:
    """Take a program off the allow-list: its steps wait for an approver again."""
    from missionctl.domain.workflows import COMMAND_AGENT

    agent = _update(COMMAND_AGENT, _programs_change({program: None}))
    _programs(agent)


Source = Annotated[
    str,
    typer.Argument(
        help="An absolute path (it allows itself and every path under it; no . or .. parts) "
        "or a clone URL prefix (https://git.example.com/team allows the URLs under it)."
    ),
]


@app.command("allow-repository")
def allow_repository(source: Source) -> None:
    """Let coding steps work on SOURCE (a repository, a directory of them, or a URL prefix).

    Until an admin allows one, no coding step runs on any repository, and a workflow or mission
    naming another is refused. Allowing a listed source again changes nothing.
    """
    from missionctl.domain.governance import CODING_RULE

    agent = _update(CODING_RULE, _programs_change({source: True}, "allowed_repositories"))
    _repositories(agent)


@app.command("disallow-repository")
def disallow_repository(source: Source) -> None:
    """Take SOURCE off the repositories coding steps may work on (exactly as listed)."""
    from missionctl.domain.governance import CODING_RULE

    agent = _update(CODING_RULE, _programs_change({source: False}, "allowed_repositories"))
    _repositories(agent)
