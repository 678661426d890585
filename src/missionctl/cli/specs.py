"""``missionctl specs list | marked | write | approve | reject``: mini-specs of risky tasks.

Steps implementing a task the spec policy marks wait for an approved, fresh mini-spec
(docs/specs.md). With ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, the commands act on that
server as the token (``--as`` is refused); otherwise on the local database as ``--as``
(default ``system``), a user who must be enabled and hold the action's permission, and the
author of a spec may not decide on it there either.
"""

# Schemas and services are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import AsUser, console
from missionctl.domain.access import Permission

if TYPE_CHECKING:
    from missionctl.schemas.specs import MarkedTask, SpecRead

T = TypeVar("T")

app = typer.Typer(
    help="Mini-specs: risky tasks' implementation waits for an approved, fresh one.",
    no_args_is_help=True,
)

MissionArg = Annotated[uuid.UUID, id_argument("missions", "MISSION", "The mission's id")]
SpecArg = Annotated[
    uuid.UUID, id_argument("specs", "SPEC", "The spec's id (`missionctl specs list`)")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _as(user: str | None) -> str | None:
    """``--as``'s user; ``system`` is the command's own identity, as no ``--as`` is."""
    return None if user == "system" else user


def _print_spec(spec: SpecRead) -> None:
    decided = ""
    if spec.decided_by:
        note = f": {escape(spec.reason)}" if spec.reason else ""
        decided = f" by {escape(spec.decided_by)} at {spec.decided_at:%Y-%m-%d %H:%M}Z{note}"
    console.print(
        f"[bold]{escape(spec.task_key)}[/bold]  {spec.status}{decided}  "
        f"(written by {escape(spec.author)})"
    )
    console.print(f"  id  {spec.id}")
    if spec.released_steps:
        console.print(f"  released {spec.released_steps} held step(s)")


@app.command("list")
def list_specs(mission_id: MissionArg, as_json: AsJson = False) -> None:
    """List a mission's specs, oldest first."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import specs as ops

    with open_backend() as api:
        found = api.call(ops.LIST, mission_id=mission_id)
    if as_json:
        typer.echo("[" + ",".join(s.model_dump_json() for s in found) + "]")
        return
    if not found:
        console.print("no specs")
    for spec in found:
        _print_spec(spec)


@app.command("marked")
def marked(mission_id: MissionArg, as_json: AsJson = False) -> None:
    """List the tasks of the newest plan that need a spec, why, and where their spec stands."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import specs as ops

    with open_backend() as api:
        found = api.call(ops.MARKED, mission_id=mission_id)
    if as_json:
        typer.echo("[" + ",".join(t.model_dump_json() for t in found) + "]")
        return
    if not found:
        console.print("no task of the newest plan needs a spec")
    for task in found:
        _print_marked(task)


def _print_marked(task: MarkedTask) -> None:
    console.print(f"[bold]{escape(task.task_key)}[/bold]  {task.status}  {escape(task.title)}")
    for mark in task.marks:
        console.print(f"  {escape(mark)}")


@app.command("write")
def write(
    mission_id: MissionArg,
    task_key: Annotated[str, typer.Argument(help="The plan task the spec is for.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the Markdown body from this file (else stdin)."),
    ] = None,
    user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Write a draft spec for a task (Markdown from --file or standard input)."""
    text = _read_body(file)

    from missionctl.cli._backend import open_backend
    from missionctl.operations import specs as ops
    from missionctl.schemas.specs import SpecWrite

    data = _checked(lambda: SpecWrite.model_validate({"task_key": task_key, "body": text}))
    with open_backend() as api, api.acting(_as(user), Permission.MISSIONS_WRITE) as acting:
        spec = acting.call(ops.WRITE, body=data, mission_id=mission_id)
    _show(spec, as_json)


def _read_body(file: Path | None) -> str:
    """The body's text from ``file`` or standard input; exit 2 when it cannot be used.

    Reading stops past the most bytes a body of ``SPEC_BODY_MAX_CHARS`` characters can take
    (four per character in UTF-8), so an endless pipe or ``/dev/zero`` is refused at once; the
    schema then counts the characters.
    """
    from missionctl.cli._input_files import read_input_text
    from missionctl.schemas.specs import SPEC_BODY_MAX_CHARS

    return read_input_text(
        file,
        limit=4 * SPEC_BODY_MAX_CHARS,
        fix=f"a spec's body is at most {SPEC_BODY_MAX_CHARS} characters: shorten it",
        field="body",
    )


def _checked(build: Callable[[], T]) -> T:
    from pydantic import ValidationError

    try:
        return build()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            console.print(f"[red]{escape(field)}: {escape(error['msg'])}[/red]")
        raise typer.Exit(2) from None


def _show(spec: SpecRead, as_json: bool) -> None:
    if as_json:
        typer.echo(spec.model_dump_json(indent=2))
    else:
        _print_spec(spec)


def _decide(
    spec_id: uuid.UUID, *, approve: bool, reason: str, user: str | None, as_json: bool
) -> None:
    from missionctl.cli._backend import open_backend
    from missionctl.operations import specs as ops
    from missionctl.schemas.specs import SpecApprove, SpecReject

    # Built unchecked: the server checks the reason and names it when it is refused.
    op, body = (
        (ops.APPROVE, SpecApprove.model_construct(reason=reason))
        if approve
        else (ops.REJECT, SpecReject.model_construct(reason=reason))
    )
    with open_backend() as api, api.acting(_as(user), Permission.APPROVALS_DECIDE) as acting:
        spec = acting.call(op, body=body, spec_id=spec_id)
    _show(spec, as_json)


@app.command("approve")
def approve(
    spec_id: SpecArg,
    reason: Annotated[str, typer.Option(help="An optional note.")] = "",
    user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Approve a draft spec: the task's held steps are released (not by its author)."""
    _decide(spec_id, approve=True, reason=reason, user=user, as_json=as_json)


@app.command("reject")
def reject(
    spec_id: SpecArg,
    reason: Annotated[str, typer.Option(help="Required: what the spec must change.")],
    user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Reject a draft spec, saying why; its task's steps stay held."""
    _decide(spec_id, approve=False, reason=reason, user=user, as_json=as_json)
