"""``missionctl runs …``: show, cancel, retry, rerun a run; its events, artifacts and report.

Every command works on the local database as ``system``, or, with ``MISSIONCTL_URL`` and
``MISSIONCTL_TOKEN`` set, on that server as the token (``missionctl.cli._backend``). The group
is ``runs`` because ``missionctl run`` plans and executes a goal.
"""

# Schemas and services are imported where used, so `missionctl --help` stays fast; annotations
# naming them stay strings.
from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from missionctl.cli._ids import id_argument, id_option
from missionctl.cli._runtime import EXIT_INVALID, console, err_console, report_validation_error
from missionctl.cli.artifacts import print_artifacts
from missionctl.domain.money import usd_text
from missionctl.domain.states import RunStatus

if TYPE_CHECKING:
    from missionctl.schemas.runs import RunFilters, RunPage, RunRead

app = typer.Typer(
    help="Show, cancel, retry and rerun runs; read their events, artifacts and report (on the "
    "server at MISSIONCTL_URL when it is set).",
    no_args_is_help=True,
)

RunId = Annotated[uuid.UUID, id_argument("runs", "RUN_ID", "The run's id")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Detach = Annotated[
    bool,
    typer.Option("--detach", help="Start the run and return; an engine (serve, worker) runs it."),
]
# ``schemas.events.MAX_SEQ`` and the route's page limit, spelt out so that ``--help`` does not
# import the API (tests/cli/test_cli_parity.py checks that they agree).
MAX_SEQ = 2**63 - 1
MAX_EVENTS_PAGE = 1000
# ``services.usecases.paging.MAX_PAGE_SIZE``, spelt out for the same reason (checked by the same
# test).
MAX_PAGE_SIZE = 200
# ``schemas.workflows.STEP_ID_PATTERN``, spelt out for the same reason (checked by the same test).
STEP_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
_STEP_ID = re.compile(STEP_ID_PATTERN)

_FILTER_OPTIONS = {
    "status": "--status",
    "mission_id": "--mission",
    "workflow": "--workflow",
    "agent": "--agent",
    "created_after": "--after",
    "created_before": "--before",
    "q": "--search",
}


def _at(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}Z"


def print_run(run: RunRead) -> None:
    """The run as a person checks it: status, totals, then one row per step."""
    from missionctl.cli._live import outcome_cell

    colour = {"completed": "green", "failed": "red", "running": "yellow"}.get(run.status.value)
    status = f"[{colour}]{run.status.value}[/{colour}]" if colour else run.status.value
    console.print(f"[bold]run[/bold] {run.id}  {status}", highlight=False)
    console.print(f"workflow {run.workflow_id}", highlight=False)
    if run.mission_id is not None:
        console.print(f"mission  {run.mission_id}", highlight=False)
    if run.rerun_of is not None:
        console.print(f"rerun of {run.rerun_of}", highlight=False)
    budget = "uncapped" if run.budget_usd is None else usd_text(run.budget_usd)
    console.print(
        f"cost     {usd_text(run.spent_usd)} of {budget}  tokens in/out "
        f"{run.input_tokens}/{run.output_tokens}",
        highlight=False,
    )
    console.print(
        f"created  {_at(run.created_at)} by {escape(run.created_by)} ({escape(run.trigger)})",
        highlight=False,
    )
    console.print(f"ended    {_at(run.ended_at)}", highlight=False)
    # What the steps produced (documents are not code), beside the status that says they ran.
    console.print(f"outcome  {escape(run.headline)}", highlight=False)
    if run.error:
        err_console.print(f"[red]{escape(run.error)}[/red]", highlight=False)
    table = Table(title=f"steps ({len(run.steps)})", title_justify="left", box=box.SIMPLE)
    notes = [step.error or step.hold_reason or "" for step in run.steps]
    # An id is folded onto a second line rather than cut: `runs retry` needs all of it. Sixteen
    # characters of it stay on the first line, whatever else is shown.
    longest = max((len(step.step_id) for step in run.steps), default=4)
    table.add_column("step", overflow="fold", min_width=min(16, longest))
    table.add_column("agent", overflow="fold")
    table.add_column("status")
    table.add_column("outcome", overflow="fold")
    table.add_column("try")
    table.add_column("cost")
    if any(notes):  # an empty column would take the room the others need at 80 columns
        table.add_column("note")
    for step, note in zip(run.steps, notes, strict=True):
        cells = [
            escape(step.step_id),
            escape(step.agent),
            step.status.value,
            outcome_cell(step.outcome),
            str(step.attempt),
            usd_text(step.cost_usd),
        ]
        if any(notes):
            first = note.splitlines()[0] if note else ""
            cells.append(escape(first if len(first) <= _NOTE_CELL_CHARS else "see below"))
        table.add_row(*cells)
    console.print(table)
    # A long note (a hold's reason, an error) reads as a paragraph under the table, not as a
    # column a dozen characters wide and twenty lines tall.
    for step, note in zip(run.steps, notes, strict=True):
        first = note.splitlines()[0] if note else ""
        if len(first) > _NOTE_CELL_CHARS:
            console.print(f"[bold]{escape(step.step_id)}[/bold]: {escape(first)}", highlight=False)


_NOTE_CELL_CHARS = 40


def print_outcome(run: RunRead, *, detached: bool) -> None:
    """How a run that was started here ended (or that it was started, when ``detached``)."""
    if detached:
        console.print(
            f"started run [dim]{run.id}[/dim] ({run.status.value}); an engine (missionctl serve "
            f"or worker) runs it; follow it with: missionctl runs show {run.id}",
            highlight=False,
        )
        return
    colour = "green" if run.status.value == "completed" else "red"
    # The status says the run ended; the headline says what its steps produced.
    console.print(Text.assemble((f"run {run.status.value}:", colour), " ", run.headline))
    console.print(
        Text.assemble(
            "run ",
            (str(run.id), "dim"),
            f"  tokens in/out {run.input_tokens}/{run.output_tokens}",
            f"  cost {usd_text(run.spent_usd)}",
        )
    )
    if run.error:
        err_console.print(f"[red]{escape(run.error)}[/red]", highlight=False)
    for step in run.steps:
        if step.status.value == "failed" and step.error:
            err_console.print(f"[red]step {escape(step.step_id)} failed:[/red]", highlight=False)
            err_console.print(escape(step.error), highlight=False)


def _done(run: RunRead, what: str, as_json: bool) -> None:
    if as_json:
        typer.echo(run.model_dump_json(indent=2))
        return
    console.print(f"[green]{what}[/green]", highlight=False)
    print_run(run)


def _filters(**values: object) -> RunFilters:
    """The list's filters; a bad one is reported by its option name (exit 2)."""
    from pydantic import ValidationError

    from missionctl.schemas.runs import RunFilters

    try:
        return RunFilters.model_validate(values)
    except ValidationError as exc:
        report_validation_error(exc, option_for=_FILTER_OPTIONS)
        raise  # unreachable: report_validation_error exits


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_run_page(page: RunPage) -> None:
    """A page of runs as a table that reads at 80 columns, then the cursor of the next page."""
    if not page.items:
        console.print("no runs match")
        return
    table = Table(
        title=f"Runs ({page.total})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,  # five whole columns fit in 80
    )
    # The whole id stays on one line (`runs show` needs it); what the run is goes beneath it.
    table.add_column("run / workflow, mission", no_wrap=True, min_width=36)
    table.add_column("status")
    table.add_column("done", justify="right")
    table.add_column("cost", justify="right")
    table.add_column("created")
    for run in page.items:
        what = f"{run.workflow} v{run.workflow_version}"
        if run.mission_title:
            what += f", {run.mission_title}"
        described = f"{run.id}\n[dim]{escape(_clip(what, 36))}[/dim]"
        if run.headline:  # what its tasks produced: the headline's counts
            described += f"\n{escape(_clip(run.headline.split(':')[0], 36))}"
        table.add_row(
            described,
            run.status.value,
            f"{run.tasks_done}/{run.tasks_total}",
            usd_text(run.spent_usd),
            f"{run.created_at:%Y-%m-%d}\n{run.created_at:%H:%M:%S}Z",
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}", highlight=False)


@app.command("list")
def list_runs(
    status: Annotated[RunStatus | None, typer.Option(help="Only runs in this status.")] = None,
    mission: Annotated[
        uuid.UUID | None, id_option("missions", help="Only runs of this mission (its id)")
    ] = None,
    workflow: Annotated[
        str | None, typer.Option(help="Only runs of the workflow with this name (any version).")
    ] = None,
    agent: Annotated[
        str | None, typer.Option(help="Only runs with a step of this agent, e.g. `command`.")
    ] = None,
    after: Annotated[
        datetime | None,
        typer.Option(help="Only runs created at or after this time (UTC if no zone)."),
    ] = None,
    before: Annotated[
        datetime | None, typer.Option(help="Only runs created before this time (UTC if no zone).")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", "-q", help="Text in the workflow name, mission title or error."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE_SIZE, help="Page size.")] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="`next_cursor` printed by the previous page.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List runs, newest first, each with what its tasks produced.

    The filters combine (as `GET /api/v1/runs` and the Runs page).
    Beneath each run: its workflow and mission, then its headline's counts.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    filters = _filters(
        status=status,
        mission_id=mission,
        workflow=workflow,
        agent=agent,
        created_after=after,
        created_before=before,
        q=search,
    )
    # Built unchecked: the server checks the cursor and names it when it is malformed.
    query = ops.ListQuery.model_construct(
        **filters.model_dump(exclude_none=True), limit=limit, cursor=cursor
    )
    with open_backend() as api:
        page = api.call(ops.LIST, query=query)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
    else:
        print_run_page(page)


@app.command()
def show(run_id: RunId, as_json: AsJson = False) -> None:
    """Show a run: status, what it produced, totals, and each step's status, outcome, error."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    with open_backend() as api:
        run = api.call(ops.READ, run_id=run_id)
    if as_json:
        typer.echo(run.model_dump_json(indent=2))
    else:
        print_run(run)


@app.command()
def risks(run_id: RunId, as_json: AsJson = False) -> None:
    """Each step's chance of failing, timing out or overrunning its estimate, and why.

    Estimated from the step's history when the run starts and as each retry starts, and for
    a running attempt again as of now, from how long it has run and how large its inputs are
    (docs/risks.md). A chance marked * is a guess: the step has fewer than ten attempts of
    its own.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    with open_backend() as api:
        answer = api.call(ops.RISKS, run_id=run_id)
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    table = Table(title=f"Step risks (alert at {answer.alert_at:.0%} to fail)")
    for column in ("step", "attempt", "fail", "time out", "over estimate", "evidence", "why"):
        table.add_column(column)
    for item in answer.steps:
        mark = "" if item.sure else "*"
        shown = [
            "-" if (chance := item.chances.get(risk)) is None else f"{chance:.0%}{mark}"
            for risk in ("fail", "timeout", "over_estimate")
        ]
        name = f"[bold red]{escape(item.step_id)}[/]" if item.at_risk else escape(item.step_id)
        table.add_row(
            name, str(item.attempt), *shown, str(item.evidence), escape("; ".join(item.reasons))
        )
        if item.now is not None:
            now = [
                "-" if (chance := item.now.chances.get(risk)) is None else f"{chance:.0%}{mark}"
                for risk in ("fail", "timeout", "over_estimate")
            ]
            why = "; ".join(item.now.reasons) or "its earlier attempts say nothing more yet"
            table.add_row(f"  now, after {item.now.elapsed_s:.0f} s", "", *now, "", escape(why))
    console.print(table)


@app.command()
def cancel(run_id: RunId, as_json: AsJson = False) -> None:
    """Cancel a run: nothing more is dispatched and running steps are stopped.

    Exit 2 when it has already ended. Needs the operator role on a server.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    with open_backend() as api:
        run = api.call(ops.CANCEL, run_id=run_id)
    _done(run, "canceled", as_json)


@app.command()
def retry(
    run_id: RunId,
    step_id: Annotated[str, typer.Argument(help="The failed step's id, as the run shows it.")],
    as_json: AsJson = False,
) -> None:
    """Queue a failed step again; a failed run resumes (exit 2 if the step has not failed)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    with open_backend() as api:
        run = api.call(ops.RETRY, run_id=run_id, step_id=step_id)
    _done(run, f"step {escape(step_id)} queued again", as_json)


@app.command()
def rerun(
    run_id: RunId,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="STEP",
            help="Rerun from this step: it and every step downstream of it run again, the "
            "other steps that succeeded are reused (any run that ended).",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Start a new run that reuses what succeeded and runs the rest again.

    Without --from, the run must have failed, been canceled or aborted, and every step that
    succeeded is reused. The new run is left to an engine (missionctl serve or worker, or the
    server's).
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    if from_step is not None and not _STEP_ID.fullmatch(from_step):
        err_console.print(
            f"[red]error:[/red] --from: {escape(repr(from_step))} is not a step id (a lower-case "
            "letter, then up to 62 lower-case letters, digits, - or _)",
            highlight=False,
        )
        raise typer.Exit(EXIT_INVALID)
    with open_backend() as api:
        run = api.call(ops.RERUN, query=ops.RerunQuery(from_step=from_step), run_id=run_id)
    what = f"rerun of {run_id}" + ("" if from_step is None else f" from step {from_step}")
    _done(run, f"{what} started", as_json)


@app.command()
def events(
    run_id: RunId,
    after: Annotated[
        int, typer.Option(min=0, max=MAX_SEQ, help="Only events after this seq (a cursor).")
    ] = 0,
    limit: Annotated[int, typer.Option(min=1, max=MAX_EVENTS_PAGE, help="Events per page.")] = 200,
    as_json: AsJson = False,
) -> None:
    """List a run's events in order (payloads with --json); `more: --after N` pages on."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    with open_backend() as api:
        page = api.call(ops.EVENTS, query=ops.EventQuery(after=after, limit=limit), run_id=run_id)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    if not page.items:
        console.print(f"no events of run {run_id} after seq {after}", highlight=False)
        return
    table = Table(title=f"Events of run {run_id}", title_justify="left", box=box.SIMPLE)
    for column in ("seq", "time", "type"):
        table.add_column(column, overflow="fold")
    table.add_column("step", overflow="fold")
    table.add_column("actor", overflow="fold")
    for event in page.items:
        table.add_row(
            str(event.seq),
            event.ts[11:19],  # HH:MM:SS of the ISO time; --json has it whole
            escape(event.type),
            escape(event.step_id or ""),
            escape(event.actor),
        )
    console.print(table)
    if page.next_after is not None:
        console.print(f"more: --after {page.next_after}", highlight=False)


@app.command("artifacts")
def list_artifacts(run_id: RunId, as_json: AsJson = False) -> None:
    """List every artifact a run produced (its reports included), oldest first."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import artifacts as ops

    with open_backend() as api:
        found = api.call(ops.RUN_ARTIFACTS, run_id=run_id)
    print_artifacts(found, as_json=as_json, title=f"Artifacts of run {run_id}")


@app.command()
def report(
    run_id: RunId,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of Markdown.")
    ] = False,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf",
            help="Write the report as a PDF to this file instead of printing it; an existing "
            "file is refused unless --force.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="With --pdf: replace the file.")] = False,
) -> None:
    """Print a run's report, built from its current state: Markdown, or JSON with --json.

    What happened, what each step produced, what it learned and what it cost; redirect it to
    a file to keep it (`> report.md`), or write it as a PDF with --pdf FILE.
    """
    from missionctl.cli._backend import open_backend

    if pdf is not None:
        _write_report_pdf(run_id, pdf, as_json=as_json, force=force)
        return
    with open_backend() as api:
        if as_json:
            typer.echo(json.dumps(api.run_report(run_id).model_dump(mode="json"), indent=2))
        else:
            typer.echo(api.run_report_markdown(run_id).rstrip("\n"))


@app.command()
def receipt(
    run_id: RunId,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the receipt to this file instead of printing it; an existing file is "
            "refused unless --force.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --output: replace the file.")
    ] = False,
) -> None:
    """Print a run's receipt: one signed file that proves what the run did.

    It holds the run's entries of the hash chain, the digest of each step's outputs, each
    artifact's hash and each approval, signed with the audit signing key. Whoever has the
    public key (`missionctl audit public-key`) checks it offline, without the server:
    `missionctl verify receipt FILE --public-key KEY`.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import artifacts as ops

    if output is not None and output.exists() and not force:
        raise _report_refusal(f"--output: {escape(str(output))} exists; add --force to replace it")
    with open_backend() as api:
        content = api.file(ops.RECEIPT, run_id=run_id)
    if output is None:
        typer.echo(content.decode("utf-8").rstrip("\n"))
        return
    _write_file(output, content, option="--output")


def _report_refusal(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(EXIT_INVALID)


def _write_report_pdf(run_id: uuid.UUID, output: Path, *, as_json: bool, force: bool) -> None:
    """Write the run's report as a PDF to ``output``, never through a link at ``output``.

    Refused (exit 2) before anything is asked for when ``--json`` is given too or the file
    exists without ``--force``.
    """
    from missionctl.cli._backend import open_backend

    if as_json:
        raise _report_refusal("--pdf: give --pdf or --json, not both")
    if output.exists() and not force:
        raise _report_refusal(f"--pdf: {escape(str(output))} exists; add --force to replace it")
    with open_backend() as api:
        content = api.run_report_pdf(run_id)
    _write_file(output, content, option="--pdf")


def _write_file(output: Path, content: bytes, *, option: str) -> None:
    """Write ``content`` to ``output``, never through a link there; refused (exit 2) if it fails."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        with os.fdopen(os.open(output, flags, 0o644), "wb") as file:
            file.write(content)
    except OSError as exc:
        message = f"{option}: cannot write {escape(str(output))}: {exc.strerror}"
        raise _report_refusal(message) from exc
    console.print(
        f"wrote {len(content)} bytes to {escape(str(output))}", highlight=False, soft_wrap=True
    )
