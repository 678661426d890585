"""``missionctl workers …``: the engines registered on the database, and their lifecycle.

Each engine (the one inside ``missionctl serve``, each ``missionctl worker``) registers when it
starts and heartbeats while it runs. The status words are the Workers page's: ``online``
(heartbeating, claiming work; idle or busy), ``draining`` (finishing what it holds, claiming
nothing), ``stale`` (no heartbeat for ``domain.workers.STALE_S`` seconds), ``offline`` (none for
``domain.workers.OFFLINE_S``: gone for good) and ``stopped`` (it exited cleanly).

``drain``, ``resume``, ``stop`` and ``scale`` write the command on the worker's row; the engine
obeys at its next heartbeat, on whatever machine it runs (ADR 0058). ``autoscale`` gives it a
range instead: each heartbeat then sizes it from the queue (ADR 0115).
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

if TYPE_CHECKING:
    from missionctl.cli._backend import MissionControl
    from missionctl.schemas.health import WorkerDetail, WorkerRead

app = typer.Typer(
    help="The engines that run steps (the server's own and each `missionctl worker`): where "
    "they run, their status, what they hold and how busy they are; drain, resume, stop or "
    "scale one, or let it size itself from the queue.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkerArg = Annotated[str, typer.Argument(help="The worker's id, or its name (host:pid:tag).")]
# ``domain.workers.MAX_CONCURRENCY``, spelt out so that ``--help`` does not import the domain's
# worker rules (tests/cli/test_startup.py checks that the two agree).
MAX_CONCURRENCY = 1000
_STATUS_STYLE = {
    "online": "green",
    "draining": "yellow",
    "stale": "red",
    "offline": "red",
    "stopped": "dim",
}


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S}Z"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _status(worker: WorkerRead) -> str:
    style = _STATUS_STYLE[worker.status]
    return f"[{style}]{worker.status}[/{style}]"


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """The engines seen in the last day, newest start first, with their status.

    The registry of `GET /api/v1/workers`. Status: online, draining, stale (no heartbeat for
    30 s), offline (none for 90 s) or stopped (cleanly). held: steps it ran at its last
    heartbeat, of how many at once; 5m and 1h: percent of its slots busy over those windows.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workers as ops

    with open_backend() as api:
        workers = api.call(ops.LIST)
    if as_json:
        typer.echo("[" + ",".join(w.model_dump_json() for w in workers) + "]")
        return
    if not workers:
        console.print("no engine ran in the last day (`missionctl serve` or `worker` starts one)")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("name", overflow="fold")  # whole, even folded: `workers show` takes it
    for column in ("status", "kind", "held", "5m", "1h", "last heartbeat"):
        table.add_column(column, no_wrap=True)
    for worker in workers:
        table.add_row(
            escape(worker.name),
            _status(worker),
            worker.kind,
            f"{worker.held_count}/{worker.concurrency}",
            _percent(worker.utilisation_5m),
            _percent(worker.utilisation_1h),
            _when(worker.last_heartbeat_at),
        )
    console.print(table)
    alive = sum(worker.alive for worker in workers)
    console.print(f"{alive} alive of {len(workers)}", highlight=False)


@app.command()
def show(worker: WorkerArg, as_json: JsonOpt = False) -> None:
    """One engine: where it runs, its status, capabilities, held steps and utilisation.

    A name that several engines of the last day had (a pid used again) shows the newest.
    Exits 1 when no engine has that id, or none of the last day that name.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workers as ops

    with open_backend() as api:
        found = api.call(ops.READ, worker_id=_resolve(api, worker))
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    _print_detail(found)


def _print_detail(found: WorkerDetail) -> None:
    from missionctl.domain.workers import OFFLINE_S, STALE_S

    console.print(f"[bold]{escape(found.name)}[/bold]  {_status(found)}", highlight=False)
    asked = str(found.desired_state.value)
    if found.desired_concurrency is not None and found.autoscale_max is None:
        asked += f", {found.desired_concurrency} at once"  # else its range chose it
    for label, value in (
        ("id", str(found.id)),
        ("kind", found.kind),
        ("host", escape(found.host)),
        ("pid", str(found.pid)),
        ("version", escape(found.version)),
        ("steps at once", str(found.concurrency)),
        ("autoscale", _autoscale(found)),
        ("last resize", escape(found.autoscale_reason or "—")),
        ("held", str(found.held_count)),
        ("busy 5m", _percent(found.utilisation_5m)),
        ("busy 1h", _percent(found.utilisation_1h)),
        ("asked", asked + _by(found)),
        ("capabilities", escape(", ".join(found.capabilities)) or "—"),
        ("started", _when(found.started_at)),
        ("last heartbeat", _when(found.last_heartbeat_at)),
        ("stopped", _when(found.stopped_at)),
        ("offline since", _when(found.offline_reported_at)),
    ):
        console.print(f"{label:<15}{value}", highlight=False)
    for held in found.held_steps:
        console.print(
            f"  {escape(held.step_id)}  run {held.run_id}  step run {held.step_run_id}",
            highlight=False,
        )
    console.print(
        f"[dim]stale: no heartbeat for {STALE_S:g} s; offline: none for {OFFLINE_S:g} s[/dim]",
        highlight=False,
    )


def _autoscale(worker: WorkerRead) -> str:
    if worker.autoscale_min is None or worker.autoscale_max is None:
        return "off"
    return f"{worker.autoscale_min} to {worker.autoscale_max} at once, from the queue"


def _by(worker: WorkerRead) -> str:
    if worker.commanded_by is None:
        return ""
    return f" (by {escape(worker.commanded_by)} at {_when(worker.commanded_at)})"


@app.command()
def drain(worker: WorkerArg, as_json: JsonOpt = False) -> None:
    """Let the worker finish the steps it holds and claim no new ones.

    Obeyed at its next heartbeat (within 10 s). `workers resume` undoes it. Exits 2 when the
    worker is stopped or offline, or already draining.
    """
    _command(worker, "drain", as_json)


@app.command()
def resume(worker: WorkerArg, as_json: JsonOpt = False) -> None:
    """Let a draining worker (or one asked to stop that has not exited) claim work again."""
    _command(worker, "resume", as_json)


@app.command()
def stop(worker: WorkerArg, as_json: JsonOpt = False) -> None:
    """Drain the worker, then end it: a `missionctl worker` process exits 0 once drained.

    The server's own engine cannot end the server: it stops claiming until resumed. A process
    manager (systemd, Docker Compose) restarts a stopped worker if told to: see docs/deploy.md.
    """
    _command(worker, "stop", as_json)


@app.command()
def scale(
    worker: WorkerArg,
    concurrency: Annotated[
        int, typer.Argument(help=f"Steps it runs at once from now on, 1 to {MAX_CONCURRENCY}.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Change how many steps the worker runs at once (obeyed at its next heartbeat).

    Steps it already runs beyond a lowered number finish; it claims no more until below it.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workers as ops
    from missionctl.schemas.health import WorkerUpdate

    with open_backend() as api:
        sent = WorkerUpdate.model_construct(concurrency=concurrency)  # the server checks it
        done = api.call(ops.SCALE, body=sent, worker_id=_resolve(api, worker))
    _print_result(done, f"asked to run {concurrency} at once", as_json)


@app.command()
def autoscale(
    worker: WorkerArg,
    minimum: Annotated[
        int | None, typer.Option("--min", help="The fewest steps at once it sizes itself to.")
    ] = None,
    maximum: Annotated[
        int | None,
        typer.Option("--max", help=f"The most steps at once, up to {MAX_CONCURRENCY}."),
    ] = None,
    off: Annotated[
        bool, typer.Option("--off", help="Stop it sizing itself; it keeps the size it has.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Let the worker size itself from the queue between --min and --max steps at once.

    At each heartbeat it grows when its share of the ready steps is more than its free slots
    (at least doubling then, when a ready step has waited 10 s), and halves when nothing is
    ready and its size last changed a minute ago or more, never below what it runs; while it
    drains it keeps its size. Each size it takes is a `worker.autoscaled` event with why.
    `--off` stops it; `workers scale` is refused while it sizes itself.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workers as ops
    from missionctl.schemas.health import WorkerAutoscale

    given = (minimum is not None, maximum is not None)
    if given != ((False, False) if off else (True, True)):
        raise typer.BadParameter("give --min and --max, or --off", param_hint="--min/--max/--off")
    with open_backend() as api:
        worker_id = _resolve(api, worker)
        if minimum is None or maximum is None:  # --off
            done = api.call(ops.AUTOSCALE_OFF, worker_id=worker_id)
            _print_result(done, f"keeps {done.desired_concurrency} at once", as_json)
            return
        sent = WorkerAutoscale.model_construct(minimum=minimum, maximum=maximum)
        options = {"minimum": "--min", "maximum": "--max"}
        done = api.call(ops.AUTOSCALE, body=sent, options=options, worker_id=worker_id)
    _print_result(done, f"sizes itself between {minimum} and {maximum} at once", as_json)


def _command(worker: str, command: str, as_json: bool) -> None:
    from missionctl.cli._backend import open_backend
    from missionctl.domain.workers import WorkerCommand
    from missionctl.operations import workers as ops

    with open_backend() as api:
        done = api.call(ops.COMMANDS[WorkerCommand(command)], worker_id=_resolve(api, worker))
    _print_result(done, f"asked to {command}", as_json)


def _print_result(done: WorkerDetail, what: str, as_json: bool) -> None:
    if as_json:
        typer.echo(done.model_dump_json(indent=2))
        return
    console.print(
        f"worker {escape(done.name)} {what}; it obeys at its next heartbeat", highlight=False
    )


def _resolve(api: MissionControl, ref: str) -> uuid.UUID:
    """The worker ``ref`` names: its id or first digits, or its name.

    By name: the newest worker of the last day so named.

    Exits 1 when no worker of the last day has that name.
    """
    from missionctl.cli._ids import id_by_name_or_digits
    from missionctl.operations import workers as ops

    def named(name: str) -> uuid.UUID | None:
        worker = _find(api.call(ops.LIST), name)
        return None if worker is None else worker.id

    found = id_by_name_or_digits(api, "workers", ref, named)
    if found is None:
        err_console.print(
            f"[red]error:[/red] no worker {escape(ref)!r} ran on {escape(api.where)} in the last "
            "day; `missionctl workers list` lists those that did",
            highlight=False,
        )
        raise typer.Exit(EXIT_NOT_FOUND)
    return found


def _find(workers: list[WorkerRead], name: str) -> WorkerRead | None:
    """The newest worker named ``name`` (the list is newest first)."""
    return next((w for w in workers if w.name == name), None)
