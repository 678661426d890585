"""``missionctl workers …``: the engines registered on the database and their heartbeats.

Each engine (the one inside ``missionctl serve``, each ``missionctl worker``) registers when it
starts and heartbeats while it runs. The status words are the Workers page's: ``alive`` (not
stopped, a heartbeat within ``domain.workers.ALIVE_S`` seconds), ``stopped`` (it stopped
cleanly) or ``silent`` (it stopped heartbeating without saying so: crashed, hung, or cut off).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import EXIT_NOT_FOUND, console, err_console
from missionctl.domain.workers import ALIVE_S

if TYPE_CHECKING:
    from missionctl.schemas.health import WorkerRead

app = typer.Typer(
    help="The engines that run steps (the server's own and each `missionctl worker`): where "
    "they run, their last heartbeat, and whether they are alive.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_STATUS_STYLE = {"alive": "green", "stopped": "dim", "silent": "red"}


def status_of(worker: WorkerRead) -> str:
    """``alive``, ``stopped`` (cleanly) or ``silent`` (gone without stopping)."""
    if worker.alive:
        return "alive"
    return "stopped" if worker.stopped_at is not None else "silent"


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S}Z"


def _status(worker: WorkerRead) -> str:
    status = status_of(worker)
    return f"[{_STATUS_STYLE[status]}]{status}[/{_STATUS_STYLE[status]}]"


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """The engines seen in the last day, newest start first, with their status.

    The registry of `GET /api/v1/workers`; steps: how many it runs at once. Status: alive,
    stopped (cleanly), or silent (no heartbeat for 30 s without stopping: crashed or cut off).
    """
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        workers = api.list_workers()
    if as_json:
        typer.echo("[" + ",".join(w.model_dump_json() for w in workers) + "]")
        return
    if not workers:
        console.print("no engine ran in the last day (`missionctl serve` or `worker` starts one)")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("name", overflow="fold")  # whole, even folded: `workers show` takes it
    for column in ("status", "kind", "steps", "last heartbeat"):
        table.add_column(column, no_wrap=True)
    for worker in workers:
        table.add_row(
            escape(worker.name),
            _status(worker),
            worker.kind,
            str(worker.concurrency),
            _when(worker.last_heartbeat_at),
        )
    console.print(table)
    alive = sum(worker.alive for worker in workers)
    console.print(f"{alive} alive of {len(workers)}", highlight=False)


@app.command()
def show(
    worker: Annotated[str, typer.Argument(help="The worker's name (host:pid:tag) or id.")],
    as_json: JsonOpt = False,
) -> None:
    """One engine of the registry: where it runs, its version, its heartbeats, its status.

    A name that several engines of the last day had (a pid used again) shows the newest.
    Exits 1 when no engine of the last day has that name or id.
    """
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        found = _find(api.list_workers(), worker)
        where = api.where
    if found is None:
        err_console.print(
            f"[red]error:[/red] no worker {escape(worker)!r} ran on {escape(where)} in the last "
            "day; `missionctl workers list` lists those that did",
            highlight=False,
        )
        raise typer.Exit(EXIT_NOT_FOUND)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    console.print(f"[bold]{escape(found.name)}[/bold]  {_status(found)}", highlight=False)
    for label, value in (
        ("id", str(found.id)),
        ("kind", found.kind),
        ("host", escape(found.host)),
        ("pid", str(found.pid)),
        ("version", escape(found.version)),
        ("steps at once", str(found.concurrency)),
        ("started", _when(found.started_at)),
        ("last heartbeat", _when(found.last_heartbeat_at)),
        ("stopped", _when(found.stopped_at)),
    ):
        console.print(f"{label:<15}{value}", highlight=False)
    console.print(
        f"[dim]alive: not stopped and a heartbeat within {ALIVE_S:g} s[/dim]", highlight=False
    )


def _find(workers: list[WorkerRead], ref: str) -> WorkerRead | None:
    """The worker with id ``ref``, else the newest named ``ref`` (the list is newest first)."""
    try:
        wanted: uuid.UUID | None = uuid.UUID(ref)
    except ValueError:
        wanted = None
    return next((w for w in workers if w.id == wanted or w.name == ref), None)
