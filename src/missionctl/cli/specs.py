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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import AsUser, LocalSession, console, refuse_as_on_a_server
from missionctl.domain.access import Permission

if TYPE_CHECKING:
    from missionctl.schemas.specs import MarkedTask, SpecRead
    from missionctl.services import ServiceContext

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


def _local(call: Callable[[ServiceContext], Awaitable[T]]) -> T:
    with LocalSession() as session:
        return session.call(call)


def _remote() -> Any:
    from missionctl.cli.remote import connect

    return connect()


async def _acting(ctx: ServiceContext, user: str | None, permission: Permission) -> tuple[str, str]:
    """The actor and user name of ``--as USER`` on the local database (``system`` without it)."""
    from missionctl.services.usecases.identity import acting_user

    if user is None or user == "system":
        return "system", "system"
    found = await acting_user(ctx, name=user, permission=permission)
    return found.actor, found.user_name


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
    from missionctl.schemas.specs import SpecRead
    from missionctl.services.usecases import specs

    client = _remote()
    if client is None:
        found = _local(lambda ctx: specs.list_specs(ctx, mission_id=mission_id))
    else:
        with client:
            found = client.get_list(f"/api/v1/missions/{mission_id}/specs", SpecRead)
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
    from missionctl.schemas.specs import MarkedTask
    from missionctl.services.usecases import specs

    client = _remote()
    if client is None:
        found = _local(lambda ctx: specs.marked_tasks(ctx, mission_id=mission_id))
    else:
        with client:
            found = client.get_list(f"/api/v1/missions/{mission_id}/specs/marked", MarkedTask)
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

    from missionctl.schemas.specs import SpecRead, SpecWrite
    from missionctl.services.usecases import specs

    data = _checked(lambda: SpecWrite.model_validate({"task_key": task_key, "body": text}))
    client = _remote()
    if client is None:

        async def write_as(ctx: ServiceContext) -> SpecRead:
            actor, name = await _acting(ctx, user, Permission.MISSIONS_WRITE)
            return await specs.write_spec(
                ctx,
                mission_id=mission_id,
                task_key=data.task_key,
                body=data.body,
                actor=actor,
                user=name,
            )

        spec = _local(write_as)
    else:
        if user is not None:
            refuse_as_on_a_server()
        with client:
            spec = client.post(f"/api/v1/missions/{mission_id}/specs", SpecRead, body=data)
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
    from missionctl.schemas.specs import SpecRead
    from missionctl.services.usecases import specs

    client = _remote()
    if client is None:

        async def decide_as(ctx: ServiceContext) -> SpecRead:
            actor, name = await _acting(ctx, user, Permission.APPROVALS_DECIDE)
            return await specs.decide_spec(
                ctx, spec_id=spec_id, approve=approve, actor=actor, user=name, reason=reason
            )

        spec = _local(decide_as)
    else:
        if user is not None:
            refuse_as_on_a_server()
        path = f"/api/v1/specs/{spec_id}/{'approve' if approve else 'reject'}"
        with client:
            spec = client.post(path, SpecRead, body={"reason": reason})
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
