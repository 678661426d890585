"""``missionctl replay RUN_ID``: rebuild a run from its events and compare it with the store.

The event log is the record; a run's ``status`` and its step runs' status and attempt are a
projection of it. Replaying folds the run's events into that state again
(``services.usecases.runs.replay_run``); a difference from the stored state means a state change was
written without its event, or an event without its change. Works on the local database.
"""

# Annotations stay strings, so the services and the event log are imported only when a command
# runs (Typer reads the command's own annotations, which name only what is imported here).
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import console, err_console, run_service
from missionctl.domain.four_eyes import decider_ids
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from missionctl.domain.replay import RunState, StepState
    from missionctl.eventlog import EventRecord
    from missionctl.schemas.replay import RunStateRead
    from missionctl.services import ServiceContext

EXIT_DIFFERS = 3
# ``schemas.events.MAX_SEQ``, spelt out so that ``--help`` does not import the API.
MAX_SEQ = 2**63 - 1
# Events read per query when printing a timeline; a long run's are read page after page.
_EVENT_PAGE = 500


def replay(
    run_id: Annotated[uuid.UUID, id_argument("runs", "RUN_ID", "The run's id")],
    with_events: Annotated[
        bool,
        typer.Option(
            "--events", help="Also print the timeline: every event of the run, in seq order."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    at: Annotated[
        int | None,
        typer.Option(
            "--at",
            min=1,
            max=MAX_SEQ,
            metavar="SEQ",
            help="Print the run as it was just after the event with this seq (statuses, "
            "attempts, tokens, cost, errors, approval decisions) instead of comparing it with "
            "the store; on the server at MISSIONCTL_URL when it is set.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Rebuild a run from its events and say whether that agrees with the stored run.

    Prints the replayed run status, each step's status and attempt (in the
    order the events name the steps), then `matches the stored run`, or each
    difference on stderr: a step's stored outputs that no longer hash to the
    digest its event recorded are a difference too. --events also prints the
    timeline it was rebuilt from.
    --at SEQ prints the run as of that event instead (a seq past the run's last
    event gives its final state).

    Exit codes:
    0  the replay matches the stored run (with --at: the state was printed)
    1  there is no run with that id
    2  RUN_ID is not a run id or the start of one, or --at is before the run's first event
    3  the replay differs from the stored run (its statuses or its steps' outputs)
    """
    if at is not None:
        _print_state_at(run_id, at, as_json=as_json)
        return

    async def read(
        ctx: ServiceContext,
    ) -> tuple[RunState, RunState, list[str], list[EventRecord] | None]:
        from missionctl.services.usecases.evidence import check_outputs
        from missionctl.services.usecases.runs import replay_run

        replayed, stored = await replay_run(ctx, run_id=run_id)
        outputs = await check_outputs(ctx, run_id=run_id)
        changed = [f"step {p.step_id} outputs: {p.reason}" for p in outputs.problems]
        timeline = await read_timeline(ctx, run_id=run_id) if with_events else None
        return replayed, stored, changed, timeline

    replayed, stored, changed_outputs, timeline = run_service(read)
    differences = describe_differences(replayed, stored) + changed_outputs
    if as_json:
        _print_json(run_id, replayed, differences, timeline)
    else:
        _print_human(run_id, replayed, differences, timeline)
    if differences:
        raise typer.Exit(EXIT_DIFFERS)


async def read_timeline(ctx: ServiceContext, *, run_id: uuid.UUID) -> list[EventRecord]:
    """Every event of the run in ``seq`` order (a page at a time); ``NotFound`` for no run."""
    from missionctl.services.usecases.audit import read_run_events

    timeline: list[EventRecord] = []
    while True:
        after_seq = timeline[-1].seq if timeline else 0
        page = await read_run_events(ctx, run_id=run_id, after_seq=after_seq, limit=_EVENT_PAGE)
        timeline.extend(page)
        if len(page) < _EVENT_PAGE:
            return timeline


def describe_differences(replayed: RunState, stored: RunState) -> list[str]:
    """How ``replayed`` differs from ``stored``, one line each; empty exactly when they are equal.

    The run status first, then each step (replayed order, then steps only the store has), as
    ``step X: events say succeeded#1, stored failed#2``.
    """
    found: list[str] = []
    if replayed.status != stored.status:
        found.append(
            f"run status: events say {replayed.status or 'nothing'}, "
            f"stored {stored.status or 'nothing'}"
        )
    for step_id in dict.fromkeys([*replayed.steps, *stored.steps]):
        said, kept = replayed.steps.get(step_id), stored.steps.get(step_id)
        if said != kept:
            found.append(f"step {step_id}: events say {_state(said)}, stored {_state(kept)}")
    return found


def _state(step: StepState | None) -> str:
    return "nothing" if step is None else f"{step.status}#{step.attempt}"


def utc_millis(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 to the millisecond: ``2025-01-31T09:05:02.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_row(event: EventRecord) -> dict[str, Any]:
    """The timeline's columns of one event; status and attempt are None when it carries none."""
    return {
        "seq": event.seq,
        "time": utc_millis(event.ts),
        "type": event.type,
        "step": event.step_id,
        "status": event.payload.get("status"),
        "attempt": event.payload.get("attempt"),
    }


def _print_json(
    run_id: uuid.UUID,
    replayed: RunState,
    differences: list[str],
    timeline: list[EventRecord] | None,
) -> None:
    document: dict[str, Any] = {
        "run_id": str(run_id),
        "status": replayed.status,
        "steps": [
            {"step": step_id, "status": step.status, "attempt": step.attempt}
            for step_id, step in replayed.steps.items()
        ],
        "matches": not differences,
        "differences": differences,
    }
    if timeline is not None:
        document["events"] = [_event_row(event) for event in timeline]
    typer.echo(json.dumps(document, indent=2))


def _print_human(
    run_id: uuid.UUID,
    replayed: RunState,
    differences: list[str],
    timeline: list[EventRecord] | None,
) -> None:
    console.print(
        f"[bold]run {run_id}[/bold]  replayed status "
        f"[bold]{escape(replayed.status or 'nothing')}[/bold]",
        highlight=False,
    )
    if timeline is not None:
        console.print(_timeline_table(timeline))
    steps = Table(title="Replayed steps", title_justify="left")
    for column in ("step", "status", "attempt"):
        steps.add_column(column)
    for step_id, step in replayed.steps.items():
        steps.add_row(escape(step_id), escape(step.status), str(step.attempt))
    console.print(steps)
    if not differences:
        console.print("[green]matches the stored run[/green]")
        return
    err_console.print("[red]differs from the stored run:[/red]")
    for difference in differences:
        err_console.print(f"  {escape(difference)}", highlight=False)


def _timeline_table(timeline: list[EventRecord]) -> Table:
    # Collapsed padding and no outer edge: the six columns fit an 80-column pipe uncut.
    table = Table(
        title=f"Events ({len(timeline)})",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("seq", justify="right")
    table.add_column("time (UTC)", no_wrap=True)
    for column in ("type", "step", "status", "attempt"):
        table.add_column(column)
    for event in timeline:
        row = _event_row(event)
        table.add_row(*(escape("" if value is None else str(value)) for value in row.values()))
    return table


def _print_state_at(run_id: uuid.UUID, at: int, *, as_json: bool) -> None:
    """Print the run as of the event with seq ``at``, from the back-end (local or remote)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import runs as ops

    with open_backend() as api:
        state = api.call(ops.STATE, query=ops.StateQuery.model_construct(at=at), run_id=run_id)
    if as_json:
        typer.echo(state.model_dump_json(indent=2))
        return
    _print_state(state)


def _print_state(state: RunStateRead) -> None:
    event = state.event
    console.print(
        f"[bold]run {state.run_id}[/bold] as of seq {state.at} "
        f"(event {state.position} of {len(state.seqs)}): "
        f"[bold]{escape(state.status or 'nothing')}[/bold]",
        highlight=False,
    )
    step = f" step {event.step_id}" if event.step_id else ""
    console.print(
        f"event    {escape(event.type)}{escape(step)} by {escape(event.actor)} at "
        f"{utc_millis(event.ts)}",
        highlight=False,
    )
    console.print(
        f"usage    tokens in/out {state.input_tokens}/{state.output_tokens}  "
        f"cost {usd_text(state.cost_usd)}",
        highlight=False,
    )
    table = Table(title="Steps", title_justify="left")
    for column in ("step", "status", "attempt", "tokens in/out", "cost", "error"):
        table.add_column(column)
    for s in state.steps:
        table.add_row(
            escape(s.step_id),
            escape(s.status),
            str(s.attempt),
            f"{s.input_tokens}/{s.output_tokens}",
            usd_text(s.cost_usd),
            escape(s.error or ""),
        )
    console.print(table)
    for d in state.approvals:
        verb = "approved" if d.decision == "approve" else "rejected"
        reason = f": {d.reason}" if d.reason else ""
        by = decider_ids(d.decided_by, d.decided_by_user)
        console.print(
            f"{escape(d.step_id)} {verb} by {escape(by)} at "
            f"{utc_millis(d.decided_at)}{escape(reason)}",
            highlight=False,
        )
    for s in state.steps:
        if s.outputs_verified is False:
            err_console.print(
                f"[red]step {escape(s.step_id)}: its stored outputs differ from the digest its "
                "event recorded in the chain: they were changed after the step ended[/red]",
                highlight=False,
            )
