"""``missionctl health`` and ``missionctl followers``: the system's vital figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from missionctl.cli._runtime import console
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from missionctl.schemas.health import FollowerRead, HealthSummaryRead


def health(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Queue depth, running steps, steps failed in 24 h, burn rate, approvals, live workers.

    The figures of `GET /api/v1/health/summary` (a server reads them at most once a second for
    every caller together); on the local database they are read now. While a spending cap is
    reached, or at 80 %, in its current UTC day or month, a line says how many (see
    `missionctl caps list`).
    """
    from missionctl.cli._backend import open_backend
    from missionctl.domain.workers import ALIVE_S
    from missionctl.operations import system as ops

    with open_backend() as api:
        summary = api.call(ops.SUMMARY)
        where = api.where
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    rows = [
        ("queued", f"{summary.queued}", "steps waiting for an engine"),
        ("running", f"{summary.running}", "steps running now"),
        ("failed 24 h", f"{summary.failed_24h}", "steps that failed for good in the last 24 h"),
        ("burn rate", f"{usd_text(summary.burn_usd_per_hour)}/h", "spent in the last hour"),
        ("approvals", f"{summary.approvals_waiting}", "gated steps waiting for a decision"),
        ("workers alive", f"{summary.workers_alive}", f"engines heartbeating within {ALIVE_S:g} s"),
        *_cap_rows(summary),
    ]
    colour = {
        "failed 24 h": "red" if summary.failed_24h > 0 else "",
        "workers alive": "red" if summary.workers_alive == 0 else "",
        "caps reached": "red",
        "caps at 80 %": "yellow",
    }
    for label, value, meaning in rows:
        shown = f"{value:>12}"
        if tint := colour.get(label):
            shown = f"[{tint}]{shown}[/{tint}]"
        console.print(f"{label:<14}{shown}  [dim]{meaning}[/dim]", highlight=False)
    console.print(f"[dim]as of {summary.as_of:%Y-%m-%d %H:%M:%S}Z, {where}[/dim]", highlight=False)


def _cap_rows(summary: HealthSummaryRead) -> list[tuple[str, str, str]]:
    """The spending caps' lines, each only while its count is not zero (as on the strip)."""
    rows = []
    if summary.caps_reached:
        rows.append(
            ("caps reached", f"{summary.caps_reached}", "spending caps holding steps this period")
        )
    if summary.caps_warning:
        rows.append(
            ("caps at 80 %", f"{summary.caps_warning}", "spending caps 80 % spent this period")
        )
    return rows


def followers(
    as_json: Annotated[bool, typer.Option("--json", help="Print the positions as JSON.")] = False,
    watch: Annotated[
        float | None,
        typer.Option(
            "--watch",
            min=0.2,
            max=3600,
            metavar="SECONDS",
            help="Read them again every SECONDS until Ctrl-C.",
        ),
    ] = None,
) -> None:
    """How far each follower of the log is behind it: in events, and in seconds.

    The followers keep derived data up with the events as they are appended: the log-search
    index, mission memory, the analytics facts and the webhook outbox. lag: events appended that
    it has not read, and how long ago the oldest of them was appended (0 when it is current).
    `missionctl serve` and `missionctl worker` run them; a search, a memory read and an
    analytics read also catch theirs up first. The figures of `GET /api/v1/followers`.
    """
    import time

    from missionctl.cli._backend import open_backend
    from missionctl.operations.system import FOLLOWERS

    with open_backend() as api:
        while True:
            positions = api.call(FOLLOWERS)
            if as_json:
                typer.echo("[" + ",".join(p.model_dump_json() for p in positions) + "]")
            else:
                _print_followers(positions, where=api.where)
            if watch is None:
                return
            time.sleep(watch)


def _print_followers(positions: list[FollowerRead], *, where: str) -> None:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for column in ("follower", "read to", "lag (events)", "lag (s)"):
        table.add_column(column, no_wrap=True, justify="left" if column == "follower" else "right")
    table.add_column("keeps", style="dim")
    for p in positions:
        behind = f"[yellow]{p.lag_events}[/yellow]" if p.lag_events else "0"
        table.add_row(p.name, f"{p.read_to}", behind, f"{p.lag_s:.1f}", p.description)
    console.print(table)
    as_of = positions[0].as_of if positions else None
    head = positions[0].head if positions else 0
    stamp = f"as of {as_of:%Y-%m-%d %H:%M:%S}Z, " if as_of else ""
    console.print(f"[dim]log head {head}; {stamp}{where}[/dim]", highlight=False)
