"""``missionctl controls | stop --emergency | release``: stop all work at once, let it resume.

On the local database, the stop is recorded as engaged (or released) by ``system``; with
``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, on that server as the token. Engines in other
processes (``missionctl serve``, ``missionctl worker``) see it at their next poll. When the
database cannot be written (or, here, even opened), the stop is held by the data directory's
stop signal and recorded once it can be (``services.runtime.stop_signal``).
"""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from missionctl.cli._runtime import EXIT_INVALID, console, err_console

if TYPE_CHECKING:
    from missionctl.schemas.governance import EmergencyStopResult


def controls(
    as_json: Annotated[bool, typer.Option("--json", help="Print the controls as JSON.")] = False,
) -> None:
    """Say whether the emergency stop is on, since when, by whom and why."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import controls as ops

    with open_backend() as api:
        state = api.call(ops.READ)
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
    elif not state.emergency_stop:
        console.print("[green]running[/green]: the emergency stop is off")
    else:
        since = f"{state.stopped_at:%Y-%m-%d %H:%M:%S}Z" if state.stopped_at else "?"
        console.print(
            f"[red]emergency stop ON[/red] since {since} by {escape(state.stopped_by or '?')}"
        )
        if state.reason:
            console.print(f"reason   {escape(state.reason)}")
        if not state.recorded:
            console.print(f"[yellow]not recorded yet[/yellow]: {escape(state.note or '')}")
        console.print("nothing is dispatched until `missionctl release`")


def stop(
    emergency: Annotated[
        bool,
        typer.Option(
            "--emergency", help="Confirm: abort every active run and dispatch nothing more."
        ),
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (recorded with the stop).")] = "",
) -> None:
    """Emergency stop: abort every active run, stop its steps, dispatch nothing until released.

    Needs --emergency. Work resumes only when the stop is released (`missionctl release` here,
    or an admin over the API); aborted runs stay aborted.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import controls as ops

    if not emergency:
        err_console.print(
            "[red]error:[/red] `missionctl stop` aborts every active run and stops every "
            "engine's steps until it is released (`missionctl release`); add --emergency "
            "to confirm. To stop one run, cancel it instead: missionctl runs cancel RUN_ID."
        )
        raise typer.Exit(EXIT_INVALID)
    try:
        with open_backend() as api:  # the reason is sent as given: the server checks it
            result = api.call(ops.ENGAGE, body=ops.StopBody.model_construct(reason=reason))
    except Exception as failure:  # the database cannot even be opened: hold the stop anyway
        result = _held_without_database(failure, reason)
    if not result.controls.recorded:
        console.print(
            f"[red]emergency stop engaged[/red] by {escape(result.controls.stopped_by or '?')}, "
            "not recorded yet"
        )
        console.print(escape(result.controls.note or ""), highlight=False)
        return
    console.print(
        f"[red]emergency stop engaged[/red] by {escape(result.controls.stopped_by or '?')}: "
        f"{len(result.aborted_runs)} runs aborted, {result.canceled_steps} steps canceled"
    )
    for run_id in result.aborted_runs:
        console.print(f"  aborted {run_id}")
    console.print("nothing is dispatched until `missionctl release`")


def _held_without_database(failure: Exception, reason: str) -> "EmergencyStopResult":
    """On this machine, a database that cannot be opened: hold the stop in the home's signal.

    Anything else (a server's refusal, a bug, a fault against a server) is raised again.
    """
    import os

    from missionctl.cli._faults import fault_line
    from missionctl.cli._runtime import load_settings
    from missionctl.cli.remote import URL_VAR

    line = fault_line(failure)
    if line is None or os.environ.get(URL_VAR):
        raise failure
    from missionctl.domain.access import SYSTEM_IDENTITY
    from missionctl.services.runtime.stop_signal import FILE_NAME, StopSignal
    from missionctl.services.usecases.controls import held_by_signal

    signal = StopSignal(load_settings().home / FILE_NAME)
    held = held_by_signal(signal, actor=SYSTEM_IDENTITY.actor, reason=reason, cause=line)
    if StopSignal(signal.path).pending() is None:  # read back from the file
        raise failure  # held in this command's memory only, which ends now: not held at all
    return held


def release(
    reason: Annotated[str, typer.Option(help="Why (recorded with the release).")] = "",
) -> None:
    """Release the emergency stop: dispatch resumes (aborted runs stay aborted; rerun them)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import controls as ops

    with open_backend() as api:  # the reason is sent as given: the server checks it
        api.call(ops.RELEASE, body=ops.StopBody.model_construct(reason=reason))
    console.print("[green]emergency stop released[/green]: dispatch resumes")
