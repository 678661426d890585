"""``missionctl audit …``: the event log."""

import typer

from missionctl.cli._runtime import console, run_service
from missionctl.services.audit import verify_event_chain

app = typer.Typer(help="Inspect and verify the event log.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute the hash chain: prints `OK n events`, or the first broken seq and why (exit 1)."""
    report = run_service(verify_event_chain)
    if report.ok:
        console.print(f"[green]{report}[/green]")
        return
    console.print(f"[red]{report}[/red]")
    raise typer.Exit(1)
