"""``missionctl decisions …`` and ``missionctl risks …``: decision log and risk register.

``decisions list|add|edit|export`` and ``risks list|add|edit``. An edit names the item's
``--version`` as ``list`` printed it: when the item changed since, the edit is refused (exit 2)
and nothing changes. ``export`` writes one ADR Markdown file per decision into a directory.

With ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, every command goes through the server's
``/api/v1/missions/{id}/decisions`` and ``…/risks`` as ``token:NAME``; otherwise it works on the
local database as ``system`` (``missionctl.cli._backend``).
"""

# Schemas and services are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import ID_CHARS, id_argument, id_option
from missionctl.cli._runtime import console, report_validation_error
from missionctl.cli.runs import AsJson

if TYPE_CHECKING:
    from pydantic import BaseModel

    from missionctl.schemas.register import DecisionRead, RiskRegister

decisions_app = typer.Typer(
    help="List, add, edit and export a mission's decision log (ADR style).", no_args_is_help=True
)
risks_app = typer.Typer(
    help="List, add and edit a mission's risk register (with its heat map).", no_args_is_help=True
)

MissionId = Annotated[uuid.UUID, id_argument("missions", "MISSION_ID", "The mission's id")]
DecisionId = Annotated[
    uuid.UUID, id_argument("decisions", "DECISION_ID", "The decision's id (see list)")
]
RiskId = Annotated[uuid.UUID, id_argument("risks", "RISK_ID", "The risk's id (see list)")]
Version = Annotated[
    int,
    typer.Option(help="The item's version as `list` printed it; a stale one is refused.", min=1),
]
Text = Annotated[str | None, typer.Option(show_default=False)]
Items = Annotated[list[str] | None, typer.Option(show_default=False)]

# Contract fields → the option that sets them (a bad value is reported by its option).
_DECISION_OPTIONS = {
    "title": "--title",
    "status": "--status",
    "decided_on": "--date",
    "deciders": "--decider",
    "context": "--context",
    "choice": "--choice",
    "consequences": "--consequences",
    "reasons": "--reason",
    "trade_offs": "--trade-off",
    "alternatives": "--alternative",
    "supersedes": "--supersedes",
    "version": "--version",
}
_RISK_OPTIONS = {
    "title": "--title",
    "description": "--description",
    "owner": "--owner",
    "status": "--status",
    "severity": "--severity",
    "likelihood": "--likelihood",
    "mitigation": "--mitigation",
    "mitigation_tasks": "--task",
    "version": "--version",
}


def _build(model: type[BaseModel], values: dict[str, Any], options: dict[str, str]) -> Any:
    """``values`` (``None`` left out) as ``model``; a bad one names its option (exit 2)."""
    from pydantic import ValidationError

    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        report_validation_error(exc, option_for=options)
        raise  # unreachable: report_validation_error exits


def _print_json(items: Any) -> None:
    typer.echo(json.dumps(items, indent=2))


def _print_decisions(decisions: list[DecisionRead]) -> None:
    table = Table(box=box.SIMPLE, show_edge=False)
    for column in ("#", "status", "date", "version"):
        table.add_column(column, no_wrap=True)
    table.add_column("decision / id", min_width=ID_CHARS)  # the whole id: `edit` takes it
    for d in decisions:
        title = escape(d.title) + (f" (supersedes {d.supersedes})" if d.supersedes else "")
        table.add_row(
            str(d.number), d.status.value, d.decided_on.isoformat(), str(d.version),
            f"{title}\n[dim]{d.id}[/]",
        )  # fmt: skip
    console.print(table)


@decisions_app.command("list")
def list_decisions(mission_id: MissionId, as_json: AsJson = False) -> None:
    """List the mission's decisions: its newest plan's and those people added, in order."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops

    with open_backend() as api:
        decisions = api.call(ops.LIST_DECISIONS, mission_id=mission_id)
    if as_json:
        _print_json([d.model_dump(mode="json") for d in decisions])
    elif not decisions:
        console.print("no decisions yet")
    else:
        _print_decisions(decisions)


@decisions_app.command("add")
def add_decision(
    mission_id: MissionId,
    title: Annotated[str, typer.Option(help="What was decided, in a few words.")],
    choice: Annotated[str, typer.Option(help="The decision: what is chosen.")],
    reason: Annotated[list[str], typer.Option(help="Why; repeat for more (one at least).")],
    status: Annotated[str, typer.Option(help="proposed or accepted.")] = "proposed",
    decided_on: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")
    ] = None,
    decider: Annotated[list[str] | None, typer.Option(help="Who decided; repeat.")] = None,
    context: Annotated[str, typer.Option(help="What forces the decision.")] = "",
    consequences: Annotated[str, typer.Option(help="What follows, good and bad.")] = "",
    trade_off: Annotated[list[str] | None, typer.Option(help="A trade-off; repeat.")] = None,
    alternative: Annotated[list[str] | None, typer.Option(help="An alternative; repeat.")] = None,
    supersedes: Annotated[
        uuid.UUID | None,
        id_option(
            "decisions", help="A decision of this mission this one replaces (it becomes superseded)"
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Add a decision to the mission's log, numbered after the last one."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops
    from missionctl.schemas.register import DecisionCreate

    values = {
        "title": title,
        "choice": choice,
        "reasons": reason,
        "status": status,
        "decided_on": decided_on,
        "deciders": decider,
        "context": context,
        "consequences": consequences,
        "trade_offs": trade_off,
        "alternatives": alternative,
        "supersedes": supersedes,
    }
    data = _build(DecisionCreate, values, _DECISION_OPTIONS)
    with open_backend() as api:
        added = api.call(
            ops.ADD_DECISION, mission_id=mission_id, body=data, options=_DECISION_OPTIONS
        )
    if as_json:
        typer.echo(added.model_dump_json(indent=2))
    else:
        console.print(f"[green]added[/green] decision {added.number}  [dim]{added.id}[/dim]")


@decisions_app.command("edit")
def edit_decision(
    mission_id: MissionId,
    decision_id: DecisionId,
    version: Version,
    title: Text = None,
    choice: Text = None,
    status: Annotated[str | None, typer.Option(help="proposed or accepted.")] = None,
    decided_on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD.")] = None,
    decider: Annotated[list[str] | None, typer.Option(help="Replaces the deciders.")] = None,
    context: Text = None,
    consequences: Text = None,
    reason: Annotated[list[str] | None, typer.Option(help="Replaces the reasons.")] = None,
    trade_off: Annotated[list[str] | None, typer.Option(help="Replaces the trade-offs.")] = None,
    alternative: Annotated[
        list[str] | None, typer.Option(help="Replaces the alternatives.")
    ] = None,
    supersedes: Annotated[
        uuid.UUID | None, id_option("decisions", help="The decision this one now supersedes")
    ] = None,
    no_supersedes: Annotated[
        bool, typer.Option("--no-supersedes", help="Remove the link to a superseded decision.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Change a decision: only the options given. Exit 2 when --version is stale."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops
    from missionctl.schemas.register import DecisionEdit

    values: dict[str, Any] = {
        "version": version,
        "title": title,
        "choice": choice,
        "status": status,
        "decided_on": decided_on,
        "deciders": decider,
        "context": context,
        "consequences": consequences,
        "reasons": reason,
        "trade_offs": trade_off,
        "alternatives": alternative,
        "supersedes": supersedes,
    }
    edit = _build(DecisionEdit, values, _DECISION_OPTIONS)
    if no_supersedes:
        edit = DecisionEdit.model_validate(
            edit.model_dump(exclude_unset=True) | {"supersedes": None}
        )
    with open_backend() as api:
        saved = api.call(
            ops.EDIT_DECISION,
            mission_id=mission_id,
            decision_id=decision_id,
            body=edit,
            options=_DECISION_OPTIONS,
        )
    if as_json:
        typer.echo(saved.model_dump_json(indent=2))
    else:
        console.print(f"[green]saved[/green] decision {saved.number} (version {saved.version})")


@decisions_app.command("export")
def export_decisions(
    mission_id: MissionId,
    out: Annotated[
        Path, typer.Option(help="The directory to write into (created if missing).")
    ] = Path("adr"),
) -> None:
    """Write the decision log as ADR Markdown files, one per decision (NNNN-title.md)."""
    import io
    import zipfile

    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops

    with open_backend() as api:
        content = api.file(ops.EXPORT_DECISIONS, mission_id=mission_id)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = [(name, archive.read(name).decode()) for name in archive.namelist()]
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (out / name).write_text(text, encoding="utf-8")
        console.print(str(out / name), highlight=False)
    if not files:
        console.print("no decisions yet: nothing written")


def _print_register(register: RiskRegister) -> None:
    table = Table(box=box.SIMPLE, show_edge=False)
    for column in ("status", "severity\nlikelihood", "owner", "version"):
        table.add_column(column, overflow="fold")
    table.add_column("risk / id", min_width=ID_CHARS)  # the whole id: `edit` takes it
    for r in register.risks:
        table.add_row(
            r.status.value, f"{r.severity}\n{r.likelihood}", escape(r.owner) or "-",
            str(r.version), f"{escape(r.title)}\n[dim]{r.id}[/]",
        )  # fmt: skip
    console.print(table)
    heat = Table(title="open and mitigating risks", box=box.SIMPLE, show_edge=False)
    heat.add_column("severity \\ likelihood")
    for likelihood in register.likelihoods:
        heat.add_column(likelihood, justify="right")
    for row in register.heat_map:
        heat.add_row(row[0].severity, *(str(cell.count) for cell in row))
    console.print(heat)


@risks_app.command("list")
def list_risks(mission_id: MissionId, as_json: AsJson = False) -> None:
    """List the mission's risks and the heat map of those open or being mitigated."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops

    with open_backend() as api:
        register = api.call(ops.READ_RISKS, mission_id=mission_id)
    if as_json:
        typer.echo(register.model_dump_json(indent=2))
    elif not register.risks:
        console.print("no risks yet")
    else:
        _print_register(register)


@risks_app.command("add")
def add_risk(
    mission_id: MissionId,
    title: Annotated[str, typer.Option(help="The risk, in a few words.")],
    description: Annotated[str, typer.Option(help="What could happen.")],
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")],
    likelihood: Annotated[str, typer.Option(help="low, medium or high.")],
    mitigation: Annotated[str, typer.Option(help="What reduces it.")],
    owner: Annotated[str, typer.Option(help="Who looks after it.")] = "",
    status: Annotated[str, typer.Option(help="open, mitigating or closed.")] = "open",
    task: Annotated[
        list[str] | None, typer.Option(help="A plan task carrying the mitigation; repeat.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Add a risk to the mission's register (tasks must be keys of the newest plan)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops
    from missionctl.schemas.register import RiskCreate

    values = {
        "title": title,
        "description": description,
        "severity": severity,
        "likelihood": likelihood,
        "mitigation": mitigation,
        "owner": owner,
        "status": status,
        "mitigation_tasks": task,
    }
    data = _build(RiskCreate, values, _RISK_OPTIONS)
    with open_backend() as api:
        added = api.call(ops.ADD_RISK, mission_id=mission_id, body=data, options=_RISK_OPTIONS)
    if as_json:
        typer.echo(added.model_dump_json(indent=2))
    else:
        console.print(f"[green]added[/green] risk  [dim]{added.id}[/dim]")


@risks_app.command("edit")
def edit_risk(
    mission_id: MissionId,
    risk_id: RiskId,
    version: Version,
    title: Text = None,
    description: Text = None,
    owner: Text = None,
    status: Annotated[str | None, typer.Option(help="open, mitigating or closed.")] = None,
    severity: Annotated[str | None, typer.Option(help="low, medium, high or critical.")] = None,
    likelihood: Annotated[str | None, typer.Option(help="low, medium or high.")] = None,
    mitigation: Text = None,
    task: Annotated[list[str] | None, typer.Option(help="Replaces the mitigation tasks.")] = None,
    no_tasks: Annotated[bool, typer.Option("--no-tasks", help="Remove every task.")] = False,
    as_json: AsJson = False,
) -> None:
    """Change a risk: only the options given. Exit 2 when --version is stale."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import register as ops
    from missionctl.schemas.register import RiskEdit

    values = {
        "version": version,
        "title": title,
        "description": description,
        "owner": owner,
        "status": status,
        "severity": severity,
        "likelihood": likelihood,
        "mitigation": mitigation,
        "mitigation_tasks": [] if no_tasks else task,
    }
    edit = _build(RiskEdit, values, _RISK_OPTIONS)
    with open_backend() as api:
        saved = api.call(
            ops.EDIT_RISK, mission_id=mission_id, risk_id=risk_id, body=edit, options=_RISK_OPTIONS
        )
    if as_json:
        typer.echo(saved.model_dump_json(indent=2))
    else:
        console.print(f"[green]saved[/green] risk (version {saved.version})")
