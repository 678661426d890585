"""``missionctl controls | stop --emergency | release``: stop all work at once, let it resume.

On the local database, the stop is recorded as engaged (or released) by ``system``; with
``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, on that server as the token. Engines in other
processes (``missionctl serve``, ``missionctl worker``) see it at their next poll.
"""

from typing import Annotated

import typer
from rich.markup import escape

from missionctl.cli._runtime import EXIT_INVALID, console, err_console


def controls(
    as_json: Annotated[bool, typer.Option("--json", help="Print the controls as JSON.")] = False,
) -> None:
    """Say whether the emergency stop is on, since when, by whom and why."""
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        state = api.read_controls()
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

    if not emergency:
        err_console.print(
            "[red]error:[/red] `missionctl stop` aborts every active run and stops every "
            "engine's steps until it is released (`missionctl release`); add --emergency "
            "to confirm. To stop one run, cancel it instead: missionctl runs cancel RUN_ID."
        )
        raise typer.Exit(EXIT_INVALID)
    with open_backend() as api:
        result = api.engage_stop(reason)
    console.print(
        f"[red]emergency stop engaged[/red] by {escape(result.controls.stopped_by or '?')}: "
        f"{len(result.aborted_runs)} runs aborted, {result.canceled_steps} steps canceled"
    )
    for run_id in result.aborted_runs:
        console.print(f"  aborted {run_id}")
    console.print("nothing is dispatched until `missionctl release`")


def release(
    reason: Annotated[str, typer.Option(help="Why (recorded with the release).")] = "",
) -> None:
    """Release the emergency stop: dispatch resumes (aborted runs stay aborted; rerun them)."""
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        api.release_stop(reason)
    console.print("[green]emergency stop released[/green]: dispatch resumes")
