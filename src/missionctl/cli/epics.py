"""``missionctl epic …``: named groups of missions with an owner, a target date and a budget.

Each command performs an operation declared in ``missionctl.operations.epics``: on the server
at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (changes need an operator's token), or on the
local database. An epic is named by its name (an active epic's) or its id, whole or by its
first digits; a mission by its id, whole or by its first digits. Tables fit 80 columns.
"""

from __future__ import annotations

import uuid
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
    from missionctl.schemas.epics import EpicDetail, EpicRead, EpicState

app = typer.Typer(
    help="Epics: named groups of missions with an owner, a target date and a budget; each "
    "rolls up its missions' tasks, cost, risks and approvals.",
    no_args_is_help=True,
)

OPTIONS = {
    "name": "NAME / --name",
    "description": "--description",
    "owner": "--owner",
    "target_date": "--target",
    "budget_usd": "--budget-usd",
    "mission_ids": "MISSION",
}

EpicRef = Annotated[str, typer.Argument(help="The epic's name or id (or its first digits).")]
MissionRefs = Annotated[
    list[str], typer.Argument(help="Missions' ids (or their first digits).", show_default=False)
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Description = Annotated[str | None, typer.Option("--description", help="What it is for.")]
Owner = Annotated[str | None, typer.Option("--owner", help="The user who answers for it.")]
Target = Annotated[
    str | None, typer.Option("--target", help="The day it should be done by, YYYY-MM-DD.")
]
Budget = Annotated[
    Decimal | None,
    typer.Option("--budget-usd", help="What its missions may spend together, in USD."),
]

_TITLE_CHARS = 50


def resolve_epic(api: MissionControl, ref: str) -> uuid.UUID:
    """The id of the epic ``ref`` names (an id, a name, an id's first digits).

    A name is an active epic's, else the newest archived one's of that name. Exits 1 when
    none does.
    """
    from missionctl.cli._ids import id_by_name_or_digits
    from missionctl.operations import epics as ops
    from missionctl.schemas.epics import EpicListQuery

    def named(name: str) -> uuid.UUID | None:
        epics = api.call(ops.LIST, query=EpicListQuery(state="all"))
        same = sorted(
            (e for e in epics if e.name == name), key=lambda e: (not e.archived, e.created_at)
        )
        return same[-1].id if same else None

    if (found := id_by_name_or_digits(api, "epics", ref, named)) is not None:
        return found
    with reporting_errors():
        raise NotFound(f"no epic called {ref!r} ({api.where}); see `missionctl epic list`")
    raise AssertionError("reporting_errors exits")


def _mission_ids(refs: list[str], hint: str = "MISSION") -> list[uuid.UUID]:
    """Each mission's id from its whole id or its first digits.

    A bad one exits 2, naming ``hint``: the argument or option that took it.
    """
    from missionctl.cli._ids import IdParser

    parse = IdParser("missions")
    ids: list[uuid.UUID] = []
    for ref in refs:
        try:
            ids.append(parse(ref))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=hint) from None
    return ids


def _money(epic: EpicRead) -> str:
    spent = usd_text(epic.spent_usd)
    if epic.budget_usd is None:
        return f"spent {spent} (no budget)"
    over = " [red]over budget[/red]" if epic.over_budget else ""
    return f"spent {spent} of {usd_text(epic.budget_usd)}{over}"


def _headline(epic: EpicRead) -> str:
    target = "no target date" if epic.target_date is None else f"target {epic.target_date}"
    late = " [red]late[/red]" if epic.late else ""
    archived = " [dim](archived)[/dim]" if epic.archived else ""
    return f"[bold]{escape(epic.name)}[/bold]{archived}  owner {escape(epic.owner)}  {target}{late}"


def _statuses(epic: EpicRead) -> str:
    parts = ", ".join(f"{count} {status}" for status, count in epic.missions_by_status.items())
    noun = "mission" if epic.missions == 1 else "missions"
    return f"{epic.missions} {noun}" + (f": {parts}" if parts else "")


def _print(epic: EpicRead, as_json: bool = False) -> None:
    if as_json:
        typer.echo(epic.model_dump_json(indent=2))
        return
    console.print(_headline(epic))
    console.print(f"{_statuses(epic)} · {_money(epic)}")
    console.print(f"[dim]id {epic.id}[/dim]")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_detail(epic: EpicDetail, web: str | None) -> None:
    """The roll-up; the board's link is whole when a server shows this record (``web``)."""
    from missionctl.domain.board import COLUMN_LABELS

    _print(epic)
    if epic.description:
        console.print(escape(epic.description))
    columns = epic.tasks.by_column
    counts = " · ".join(f"{COLUMN_LABELS[c].lower()} {n}" for c, n in columns.items() if n)
    console.print(f"tasks {epic.tasks.total}" + (f": {counts}" if counts else ""))
    if epic.tasks.by_outcome:
        outcomes = ", ".join(f"{n} {o}" for o, n in epic.tasks.by_outcome.items())
        console.print(f"[dim]ended: {outcomes}[/dim]")
    console.print(f"open risks {epic.open_risks} · approvals waiting {epic.approvals_waiting}")
    for risk in epic.risks[:5]:
        title = _cut(risk.title, 36)
        where = _cut(risk.mission_title, 68 - len(risk.severity) - len(title))
        console.print(
            f"  [yellow]{risk.severity}[/yellow] {escape(title)} [dim]· {escape(where)}[/dim]"
        )
    console.print(f"board: {web or ''}{epic.board_url}")
    if epic.mission_list:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
        table.add_column("mission / id", no_wrap=True)  # the id whole: commands take it
        for column in ("status", "spent"):
            table.add_column(column, no_wrap=True)
        for row in epic.mission_list:
            table.add_row(
                f"{escape(_cut(row.title, _TITLE_CHARS))}\n[dim]{row.id}[/dim]",
                row.status,
                usd_text(row.spent_usd),
            )
        console.print(table)


@app.command("list")
def list_(
    archived: Annotated[
        bool, typer.Option("--archived", help="The archived epics instead.")
    ] = False,
    every: Annotated[bool, typer.Option("--all", help="Active and archived epics.")] = False,
    as_json: AsJson = False,
) -> None:
    """List the epics by name: owner, target date, missions and spending against budget."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops
    from missionctl.schemas.epics import EpicListQuery

    state: EpicState = "all" if every else "archived" if archived else "active"
    with open_backend() as api:
        epics = api.call(ops.LIST, query=EpicListQuery(state=state))
    if as_json:
        typer.echo("[" + ",".join(e.model_dump_json() for e in epics) + "]")
        return
    if not epics:
        console.print(
            f"No {'' if state == 'all' else state + ' '}epics. Make one: "
            "missionctl epic create NAME --mission ID"
        )
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for column in ("name", "owner", "target", "missions", "spent / budget"):
        table.add_column(column, no_wrap=column != "name", overflow="fold")
    for e in epics:
        target = "—" if e.target_date is None else f"{e.target_date}" + (" late" if e.late else "")
        budget = "" if e.budget_usd is None else f" / {usd_text(e.budget_usd)}"
        table.add_row(
            escape(e.name) + (" [dim](archived)[/dim]" if e.archived else ""),
            escape(e.owner),
            f"[red]{target}[/red]" if e.late else target,
            str(e.missions),
            f"{usd_text(e.spent_usd)}{budget}",
        )
    console.print(table)


@app.command()
def show(ref: EpicRef, as_json: AsJson = False) -> None:
    """Show an epic's roll-up: missions, tasks by state and outcome, cost, risks, approvals."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops

    with open_backend() as api:
        epic = api.call(ops.READ, epic_id=resolve_epic(api, ref))
        if as_json:
            typer.echo(epic.model_dump_json(indent=2))
            return
        _print_detail(epic, api.web_address())


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Its name, unique among the active epics.")],
    missions: Annotated[
        list[str] | None,
        typer.Option("--mission", help="A mission to put in it (id or first digits); repeat."),
    ] = None,
    description: Description = None,
    owner: Owner = None,
    target: Target = None,
    budget_usd: Budget = None,
    as_json: AsJson = False,
) -> None:
    """Make an epic; you own it unless --owner names another user."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops
    from missionctl.schemas.epics import EpicCreate

    data: dict[str, Any] = {
        "name": name,
        "description": description or "",
        "owner": owner,
        "target_date": target,
        "budget_usd": budget_usd,
        "mission_ids": _mission_ids(missions or [], "--mission"),
    }
    body = validated_body(EpicCreate, data, option_for=OPTIONS)
    with open_backend() as api:
        _print(api.call(ops.CREATE, body=body, options=OPTIONS), as_json)


@app.command()
def edit(
    ref: EpicRef,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    description: Description = None,
    owner: Owner = None,
    target: Target = None,
    no_target: Annotated[bool, typer.Option("--no-target", help="Remove the date.")] = False,
    budget_usd: Budget = None,
    no_budget: Annotated[bool, typer.Option("--no-budget", help="Remove the budget.")] = False,
) -> None:
    """Rename an epic, or change its description, owner, target date or budget."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops
    from missionctl.schemas.epics import EpicEdit

    given: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "description": description,
            "owner": owner,
            "target_date": target,
            "budget_usd": budget_usd,
        }.items()
        if value is not None
    }
    given |= {"target_date": None} if no_target else {}
    given |= {"budget_usd": None} if no_budget else {}
    body = validated_body(EpicEdit, given, option_for=OPTIONS)
    with open_backend() as api:
        _print(api.call(ops.EDIT, epic_id=resolve_epic(api, ref), body=body, options=OPTIONS))


@app.command()
def add(ref: EpicRef, missions: MissionRefs) -> None:
    """Put missions in an epic (each in no other epic)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops
    from missionctl.schemas.epics import EpicMissions

    body = validated_body(EpicMissions, {"mission_ids": _mission_ids(missions)}, option_for=OPTIONS)
    with open_backend() as api:
        _print(
            api.call(ops.ADD_MISSIONS, epic_id=resolve_epic(api, ref), body=body, options=OPTIONS)
        )


@app.command()
def remove(ref: EpicRef, missions: MissionRefs) -> None:
    """Take missions out of an epic (all or none); the missions themselves are untouched."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops
    from missionctl.schemas.epics import EpicMissions

    body = validated_body(EpicMissions, {"mission_ids": _mission_ids(missions)}, option_for=OPTIONS)
    with open_backend() as api:
        epic_id = resolve_epic(api, ref)
        _print(api.call(ops.REMOVE_MISSIONS, epic_id=epic_id, body=body, options=OPTIONS))


@app.command()
def archive(ref: EpicRef) -> None:
    """Archive an epic: it leaves the list and is read-only; its missions stay in it."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops

    with open_backend() as api:
        _print(api.call(ops.ARCHIVE, epic_id=resolve_epic(api, ref)))


@app.command()
def restore(ref: EpicRef) -> None:
    """Bring an archived epic back (a name names the newest archived epic of that name)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import epics as ops

    with open_backend() as api:
        _print(api.call(ops.RESTORE, epic_id=resolve_epic(api, ref)))
