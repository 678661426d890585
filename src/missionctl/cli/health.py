"""``missionctl health``: the system's vital figures, as the health strip shows them."""

from __future__ import annotations

from typing import Annotated

import typer

from missionctl.cli._runtime import console
from missionctl.domain.workers import ALIVE_S


def health(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Queue depth, running steps, steps failed in 24 h, burn rate, approvals, live workers.

    The figures of `GET /api/v1/health/summary` (a server reads them at most once a second for
    every caller together); on the local database they are read now.
    """
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        summary = api.health_summary()
        where = api.where
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    rows = (
        ("queued", f"{summary.queued}", "steps waiting for an engine"),
        ("running", f"{summary.running}", "steps running now"),
        ("failed 24 h", f"{summary.failed_24h}", "steps that failed for good in the last 24 h"),
        ("burn rate", f"${summary.burn_usd_per_hour:.4f}/h", "spent in the last hour"),
        ("approvals", f"{summary.approvals_waiting}", "gated steps waiting for a decision"),
        ("workers alive", f"{summary.workers_alive}", f"engines heartbeating within {ALIVE_S:g} s"),
    )
    bad = {"failed 24 h": summary.failed_24h > 0, "workers alive": summary.workers_alive == 0}
    for label, value, meaning in rows:
        shown = f"{value:>12}"
        if bad.get(label):
            shown = f"[red]{shown}[/red]"
        console.print(f"{label:<14}{shown}  [dim]{meaning}[/dim]", highlight=False)
    console.print(f"[dim]as of {summary.as_of:%Y-%m-%d %H:%M:%S}Z, {where}[/dim]", highlight=False)
