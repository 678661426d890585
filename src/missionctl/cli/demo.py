"""``missionctl demo seed``: write a deterministic demo history to look at (ADR 0071)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import EXIT_INVALID, console, err_console, load_settings
from missionctl.errors import Conflict

if TYPE_CHECKING:
    from missionctl.demo.seed import DemoSummary
    from missionctl.settings import Settings

app = typer.Typer(help="A demo history to explore the insights cockpit with.", no_args_is_help=True)

# Kept here as well as in demo.history: `--help` must not import the engine.
MIN_DAYS, MAX_DAYS = 28, 366

Days = Annotated[
    int,
    typer.Option(
        "--days", help=f"Days of history, ending yesterday (UTC): {MIN_DAYS} to {MAX_DAYS}."
    ),
]
Seed = Annotated[int, typer.Option("--seed", help="The same seed writes the same history.")]
Home = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="The data directory to write into (created, with its SQLite database); default "
        "MISSIONCTL_HOME or the nearest .missionctl. MISSIONCTL_DATABASE_URL still names the "
        "database when set.",
        file_okay=False,
    ),
]
NoAnomalies = Annotated[
    bool,
    typer.Option("--no-anomalies", help="Write the history without the three injected anomalies."),
]


@app.command()
def seed(
    days: Days = 90, seed: Seed = 42, home: Home = None, no_anomalies: NoAnomalies = False
) -> None:
    """Write DAYS days of people, missions and runs into an empty database, then say how to look.

    The history goes through the same services and events as real use, dated on a moved
    clock: people join and sign in, create missions the local planner plans, and run
    workflows whose model steps an engine here executes against a scripted model on
    127.0.0.1 (real token counts and prices). Unless --no-anomalies, it holds three anomalies:
    run success drops over the last 10 days, cost per run triples over the last 3, and the
    cohorts of 3-4 weeks ago come back half as often in their first week. A database whose
    event log holds anything is refused (exit 2) and left as it was.
    """
    if not MIN_DAYS <= days <= MAX_DAYS:
        err_console.print(
            f"[red]error:[/red] --days: give {MIN_DAYS} to {MAX_DAYS} days (the retention dip "
            f"needs cohorts of at least four weeks before today); got {days}"
        )
        raise typer.Exit(EXIT_INVALID)
    settings = load_settings(create_home=True, home=home)
    started = time.monotonic()
    try:
        with _quiet_model_refusals():
            summary = asyncio.run(_seed(settings, days=days, seed=seed, anomalies=not no_anomalies))
    except Conflict as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
        raise typer.Exit(EXIT_INVALID) from exc
    _print_summary(summary, settings, time.monotonic() - started)


@contextmanager
def _quiet_model_refusals() -> Iterator[None]:
    """Keep the scripted refusals (the failing runs) out of the terminal; errors still show."""
    logger = logging.getLogger("missionctl.llm")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _seed(settings: Settings, *, days: int, seed: int, anomalies: bool) -> DemoSummary:
    from missionctl.demo.seed import seed as write_history
    from missionctl.services import open_context

    async with open_context(settings) as ctx:
        return await write_history(ctx, days=days, seed=seed, anomalies=anomalies)


def _print_summary(summary: DemoSummary, settings: Settings, seconds: float) -> None:
    console.print(
        f"[green]wrote {summary.days} days of history[/green] "
        f"({summary.first_day} to {summary.last_day}, seed {summary.seed}) in {seconds:.1f} s",
        highlight=False,
    )
    table = Table(title="demo history", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("people", summary.people),
        ("test users (not counted)", summary.test_users),
        ("missions", summary.missions),
        ("runs", summary.runs),
        ("  completed", summary.completed_runs),
        ("  failed", summary.failed_runs),
        ("report downloads", summary.downloads),
    ):
        table.add_row(label, str(value))
    console.print(table)
    if summary.injections:
        injected = Table(title="injected anomalies", title_justify="left")
        for column in ("anomaly", "from", "to", "what"):
            injected.add_column(column, overflow="fold")
        for item in summary.injections:
            injected.add_row(item.name, str(item.since), str(item.until), item.description)
        console.print(injected)
    else:
        console.print("no anomalies injected (--no-anomalies)", highlight=False)
    home = f"MISSIONCTL_HOME={settings.home} "
    console.print("look at it:", highlight=False)
    console.print(
        f"  {escape(home)}missionctl serve   then, in another terminal:",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"  {escape(home)}missionctl login-link {escape(summary.admin)}   open the link it "
        "prints (you are the demo's admin), then /insights",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"  {escape(home)}missionctl analytics trends --since {summary.first_day}",
        highlight=False,
        soft_wrap=True,
    )
