"""``missionctl audit …``: verify, checkpoint, search and export the event log."""

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from missionctl import errors
from missionctl.cli._ids import id_option
from missionctl.cli._runtime import (
    EXIT_INVALID,
    console,
    err_console,
    load_settings,
    reporting_errors,
    run_service,
)

if TYPE_CHECKING:
    from missionctl.schemas.events import (
        AuditRunFilters,
        EventFeedItem,
        EventFeedPage,
        EventFilters,
    )
    from missionctl.services.usecases.audit import AuditReport

app = typer.Typer(
    help="Verify the event log, anchor it with signed checkpoints, search and export it.",
    no_args_is_help=True,
)

EXIT_BROKEN = 1


@app.command()
def verify(
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            help="Trust only this public key (PEM file, or a directory of them) for the "
            "checkpoints; repeatable. Default: the keys kept beside the checkpoints.",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain, check every signed checkpoint and every step's stored outputs.

    Prints `OK n events`, the checkpoints that hold and the outputs that match the digests
    their events recorded, or each break (exit 1): the first broken seq of the chain and why,
    every checkpoint the log contradicts (events removed after it, or rewritten up to it) or
    whose signature does not verify, and every step whose stored outputs were changed after
    the event that recorded them.
    """
    from missionctl.services.usecases.audit import verify_audit_log

    report = run_service(lambda ctx: verify_audit_log(ctx, trusted_keys=public_key or []))
    _print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)


def _print_report(report: "AuditReport") -> None:
    chain, checkpoints = report.chain, report.checkpoints
    console.print(f"[green]{chain}[/green]" if chain.ok else f"[red]{chain}[/red]", soft_wrap=True)
    for problem in checkpoints.problems:
        console.print(f"[red]BROKEN checkpoint {problem}[/red]", soft_wrap=True)
    _print_outputs(report)
    latest = checkpoints.latest
    if latest is None:
        if not checkpoints.problems:
            console.print(
                f"[yellow]no checkpoints in {report.checkpoint_dir}: nothing outside the "
                "database anchors the chain yet (missionctl audit checkpoint writes one)[/yellow]",
                soft_wrap=True,
            )
        return
    unanchored = max(0, chain.count - latest.seq) if chain.ok else 0
    console.print(
        f"OK {checkpoints.verified} checkpoint{'' if checkpoints.verified == 1 else 's'}; "
        f"the latest at seq {latest.seq} "
        f"({latest.time}, key {latest.key_id})"
        + (f"; {unanchored} events after it are not checkpointed yet" if unanchored else ""),
        soft_wrap=True,
    )


def _print_outputs(report: "AuditReport") -> None:
    outputs = report.outputs
    if outputs.ok:
        if outputs.matched or outputs.unvouched:  # a log without step runs has none to check
            console.print(f"[green]{outputs}[/green]", soft_wrap=True)
        return
    for problem in outputs.problems:
        console.print(f"[red]BROKEN outputs: {problem}[/red]", soft_wrap=True)


@app.command()
def checkpoint() -> None:
    """Sign the chain head now and write it to the checkpoint directory.

    Also POSTs it to MISSIONCTL_AUDIT_CHECKPOINT_URL when that is set (exit 1 if that fails;
    the file is written either way). Refuses (exit 2) a head the log contradicts.
    """
    from missionctl.services.usecases.audit import write_audit_checkpoint

    written = run_service(write_audit_checkpoint)
    console.print(
        f"checkpoint at seq {written.checkpoint.seq} (key {written.checkpoint.key_id}) "
        f"written to {written.path}",
        soft_wrap=True,
    )
    if written.post_error is not None:
        err_console.print(f"[red]error:[/red] {written.post_error}")
        raise typer.Exit(EXIT_BROKEN)


@app.command("public-key")
def public_key(
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the 32-byte raw key in base64 instead of PEM.")
    ] = False,
) -> None:
    """Print the public key that verifies checkpoints (PEM, SubjectPublicKeyInfo).

    Give it to whoever checks the checkpoints independently. Creates the signing key
    (MISSIONCTL_AUDIT_KEY_PATH) if it does not exist yet.
    """
    from missionctl.eventlog.checkpoints import public_key_pem, public_key_raw_base64
    from missionctl.services.usecases.audit import signing_key

    try:
        key = signing_key(load_settings())
    except errors.ValidationFailed as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(EXIT_INVALID) from exc
    if raw:
        console.print(public_key_raw_base64(key.public_key))
        return
    console.print(public_key_pem(key.public_key).rstrip("\n"))
    err_console.print(f"key id {key.key_id}")


# --- Searching and exporting the log -----------------------------------------------------------

Kind = Literal["events", "runs"]
Format = Literal["csv", "jsonl"]
TypeOpt = Annotated[
    list[str] | None,
    typer.Option("--type", help="Event type, or a prefix ending with a dot (`step.`); repeatable."),
]
SeverityOpt = Annotated[
    list[str] | None,
    typer.Option("--severity", help="info, success, warning or error; repeatable."),
]
RunIdOpt = Annotated[
    uuid.UUID | None, id_option("runs", "--run-id", "--run", help="Events of this run")
]
MissionIdOpt = Annotated[
    uuid.UUID | None,
    id_option("missions", "--mission-id", "--mission", help="Events of this mission"),
]
WorkflowOpt = Annotated[
    str | None, typer.Option(help="Runs (or events of runs) of this workflow (name).")
]
AgentOpt = Annotated[
    str | None, typer.Option(help="Runs in which this agent ran a step (events of its steps).")
]
ActorOpt = Annotated[
    str | None, typer.Option(help="Who started the run (runs), or recorded the event (events).")
]
StatusOpt = Annotated[str | None, typer.Option(help="Runs in this status (runs only).")]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        help="At or after this ISO 8601 time, e.g. 2026-11-22T09:30:00Z (UTC if no zone)."
    ),
]
UntilOpt = Annotated[str | None, typer.Option(help="Before this ISO 8601 time.")]
KindOpt = Annotated[Kind, typer.Option("--kind", help="Search runs or events.")]


def audit_filters(kind: Kind, **raw: Any) -> "EventFilters | AuditRunFilters":
    """The search's filters under the API's names; a bad one exits 2 naming it."""
    from missionctl.schemas.events import AuditRunFilters, EventFilters, parse_filters

    names = {"run_id", "mission_id", "type", "severity"} if kind == "runs" else {"status"}
    given = sorted(n for n in names if raw.get(n))
    with reporting_errors():
        if given:
            raise errors.ValidationFailed(
                [
                    errors.Problem(_option(n), f"does not apply to --kind {kind}; leave it out")
                    for n in given
                ]
            )
        try:
            if kind == "runs":
                return parse_filters(AuditRunFilters, {n: raw.get(n) for n in _RUN_FIELDS})
            return parse_filters(EventFilters, {n: v for n, v in raw.items() if n != "status"})
        except errors.ValidationFailed as exc:
            raise errors.ValidationFailed(
                [errors.Problem(_option(p.field or "since"), p.message) for p in exc.problems]
            ) from None


def event_filters(**raw: Any) -> "EventFilters":
    """The event feed's filters from the options; a bad one exits 2 naming its option."""
    from missionctl.schemas.events import EventFilters

    filters = audit_filters("events", **raw)
    assert isinstance(filters, EventFilters)
    return filters


def _option(field: str) -> str:
    """The option that sets the filter ``field`` (``run_id`` is ``--run-id``)."""
    return "--" + field.replace("_", "-")


_RUN_FIELDS = ("workflow", "agent", "actor", "status", "since", "until")


@app.command()
def search(
    kind: KindOpt = "runs",
    type: TypeOpt = None,
    severity: SeverityOpt = None,
    run_id: RunIdOpt = None,
    mission_id: MissionIdOpt = None,
    workflow: WorkflowOpt = None,
    agent: AgentOpt = None,
    actor: ActorOpt = None,
    status: StatusOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Page size.")] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="Next page: the cursor the previous page printed.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    """Search runs (by workflow, agent, who started them, status, start time) or events.

    The filters are those of `GET /api/v1/audit/runs` and `GET /api/v1/events`; they combine.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import audit as audit_ops
    from missionctl.operations import events as event_ops
    from missionctl.schemas.events import AuditRunQuery, EventFilters, EventQuery

    filters = audit_filters(
        kind,
        type=type,
        severity=severity,
        run_id=run_id,
        mission_id=mission_id,
        workflow=workflow,
        agent=agent,
        actor=actor,
        status=status,
        since=since,
        until=until,
    )
    with open_backend() as api:
        if isinstance(filters, EventFilters):
            before = event_cursor(cursor)
            query = EventQuery.of(filters, limit=limit, before=before)
            page: Any = api.call(event_ops.LIST, query=query)
        else:
            runs = AuditRunQuery.of(filters, limit=limit, cursor=cursor or None)
            page = api.call(audit_ops.SEARCH_RUNS, query=runs)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
    elif isinstance(filters, EventFilters):
        print_event_page(page)
    else:
        from missionctl.cli.runs import print_run_page

        print_run_page(page)


def event_cursor(cursor: str | None) -> int | None:
    """The ``--cursor`` of an event page as a seq; anything but one exits 2 naming it."""
    from missionctl.domain.numbers import ascii_int

    if cursor is None:
        return None
    seq = ascii_int(cursor)
    if seq is None or not 1 <= seq < 2**63:
        err_console.print("[red]error:[/red] --cursor: give the number the previous page printed")
        raise typer.Exit(EXIT_INVALID)
    return seq


def event_place(event: "EventFeedItem") -> str:
    """Where an event happened, for people: ``RUN/STEP``, ``RUN``, or a dash."""
    step = f"/{event.step_id}" if event.step_id else ""
    return f"{event.run_id or ''}{step}" or "—"


def print_event_page(page: "EventFeedPage") -> None:
    """Print a page of events as a table, newest first, and the cursor of the next one."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    if not page.items:
        console.print("no events match")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    for column in ("seq", "time", "severity", "type", "actor", "run / step"):
        table.add_column(column)
    for e in page.items:
        table.add_row(
            str(e.seq),
            f"{e.ts:%Y-%m-%d %H:%M:%S}Z",
            e.severity,
            escape(e.type),
            escape(e.actor),
            escape(event_place(e)),
        )
    console.print(table)
    if page.next_before:
        console.print(f"more: --cursor {page.next_before}", highlight=False)


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    format: Annotated[Format, typer.Option("--format", help="csv or jsonl.")] = "csv",
    kind: Annotated[Kind, typer.Option("--kind", help="Export events or runs.")] = "events",
    type: TypeOpt = None,
    severity: SeverityOpt = None,
    run_id: RunIdOpt = None,
    mission_id: MissionIdOpt = None,
    workflow: WorkflowOpt = None,
    agent: AgentOpt = None,
    actor: ActorOpt = None,
    status: StatusOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Write every event (oldest first) or run matching the filters to a CSV or JSONL file.

    The same export as `GET /api/v1/audit/export`, streamed to the file a page at a time.
    """
    from missionctl.cli._backend import open_backend

    filters = audit_filters(
        kind,
        type=type,
        severity=severity,
        run_id=run_id,
        mission_id=mission_id,
        workflow=workflow,
        agent=agent,
        actor=actor,
        status=status,
        since=since,
        until=until,
    )
    written = 0
    partial = output.with_name(output.name + ".partial")
    try:
        with open_backend() as api, partial.open("wb") as file:

            def write(chunk: bytes) -> None:
                nonlocal written
                file.write(chunk)
                written += len(chunk)

            api.export_audit(kind, format, filters, write)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)  # a failed export leaves no half-written file under the name
    err_console.print(f"wrote {written} bytes of {kind} to {output}")
