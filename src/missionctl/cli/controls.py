"""``missionctl stop --emergency | release``: stop all work at once, and let it resume.

On the local database, the stop is recorded as engaged (or released) by ``system``. Engines in
other processes (``missionctl serve``, ``missionctl worker``) see it at their next poll.
"""

from typing import Annotated

import typer
from rich.markup import escape

from missionctl.cli._runtime import EXIT_INVALID, console, err_console, run_service

_ACTOR = "system"


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
    if not emergency:
        err_console.print(
            "[red]error:[/red] `missionctl stop` aborts every active run and stops every "
            "engine's steps until it is released (`missionctl release`); add --emergency "
            "to confirm. To stop one run, cancel it instead (its page, or "
            "POST /api/v1/runs/ID/cancel)."
        )
        raise typer.Exit(EXIT_INVALID)
    from missionctl.services.controls import engage_emergency_stop

    result = run_service(lambda ctx: engage_emergency_stop(ctx, actor=_ACTOR, reason=reason))
    console.print(
        f"[red]emergency stop engaged[/red] by {escape(result.controls.stopped_by or _ACTOR)}: "
        f"{len(result.aborted_runs)} runs aborted, {result.canceled_steps} steps canceled"
    )
    for run_id in result.aborted_runs:
        console.print(f"  aborted {run_id}")
    console.print("nothing is dispatched until `missionctl release`")


def release(
    reason: Annotated[str, typer.Option(help="Why (recorded with the release).")] = "",
) -> None:
    """Release the emergency stop: dispatch resumes (aborted runs stay aborted; rerun them)."""
    from missionctl.services.controls import release_emergency_stop

    run_service(lambda ctx: release_emergency_stop(ctx, actor=_ACTOR, reason=reason))
    console.print("[green]emergency stop released[/green]: dispatch resumes")
