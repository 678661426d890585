"""Following a run with a live table: ``missionctl run``, ``workflow run``, ``mission run``.

``execute_live`` runs it on an engine in this process; ``follow_polling`` reads a run a server
executes. The table is redrawn from the newest read of the run whenever one of its events
arrives (and every second without one: a step another process's engine ran sends none here),
with each step's status, outcome (what it produced: ``domain.outcomes``), attempt, elapsed
time, tokens and cost, and the run's totals in its title.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from missionctl.cli._runtime import console, err_console
from missionctl.domain import events as ev
from missionctl.domain.money import usd_text
from missionctl.domain.outcomes import OUTCOME_LABELS, Outcome

if TYPE_CHECKING:  # the engine and the services are imported when a run starts, not for --help
    from missionctl.engine.worker import Engine
    from missionctl.eventlog.store import EventRecord
    from missionctl.schemas.runs import RunRead
    from missionctl.services import ServiceContext

_FINAL_STATUSES = frozenset({"completed", "failed", "canceled", "aborted"})
_RUN_ENDED = frozenset({ev.RUN_COMPLETED, ev.RUN_FAILED, ev.RUN_CANCELED, ev.RUN_ABORTED})
_STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "queued": "cyan",
    "awaiting_approval": "magenta",
    "blocked": "magenta",
    "skipped": "dim",
    "canceled": "dim",
}
_OUTCOME_STYLE = {
    "built": "green",
    "merged": "green",
    "changed": "yellow",
    "no_change": "yellow",
    "failed": "red",
    "skipped": "dim",
    "canceled": "dim",
}
_TOKENS_FROM_WIDTH = 100
# Without an event (a step done by another process's engine), look again this often.
_POLL_S = 1.0


class Progress:
    """The live table of ``run``; ``titles`` (step id → task title) adds each step's title."""

    def __init__(self, run: RunRead, titles: Mapping[str, str] | None = None) -> None:
        self.run = run
        self.titles = titles

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        # Below 100 columns each step's tokens are left out (the title has the run's): the
        # table keeps 80 columns with room for the step's id and title.
        yield self.table(tokens=options.max_width >= _TOKENS_FROM_WIDTH)

    def table(self, *, tokens: bool = True) -> Table:
        """The table as drawn now; ``tokens``: with each step's tokens in and out."""
        now = time.time()
        run = self.run
        done = sum(1 for s in run.steps if s.status.value in ("succeeded", "skipped"))
        table = Table(
            title=f"steps {done}/{len(run.steps)}  run {run.status.value}  "
            f"tokens {run.input_tokens}/{run.output_tokens}  cost {usd_text(run.spent_usd)}",
            title_justify="left",
        )
        # The step's id and agent, with its task title beneath, share the first cell, the only
        # one that takes the width left, so the table fits 80 columns without cutting words.
        table.add_column("step", ratio=1, overflow="fold")
        columns = ("status", "outcome", "attempt", "elapsed", "tokens in/out", "cost")
        for column in columns if tokens else [c for c in columns if c != "tokens in/out"]:
            table.add_column(column, overflow="fold")
        for step in run.steps:
            status = step.status.value
            style = _STATUS_STYLE.get(status, "")
            elapsed = ""
            if step.started_at is not None:
                end = step.ended_at.timestamp() if step.ended_at else now
                elapsed = f"{max(0.0, end - step.started_at.timestamp()):.1f}s"
            label = f"[bold]{escape(step.step_id)}[/bold] [dim]{escape(step.agent)}[/dim]"
            if self.titles is not None and (title := self.titles.get(step.step_id)):
                label += f"\n{escape(title)}"
            shown = status.replace("_", " ")  # awaiting approval wraps between its words
            cells = [
                label,
                f"[{style}]{shown}[/]" if style else shown,
                outcome_cell(step.outcome),
                str(step.attempt),
                elapsed,
                f"{step.input_tokens}/{step.output_tokens}",
                usd_text(step.cost_usd),
            ]
            table.add_row(*(cells if tokens else cells[:-2] + cells[-1:]))
        return table


def outcome_cell(outcome: Outcome | None) -> str:
    """What a step produced, as a table shows it (markup); empty until the step ends."""
    if outcome is None:
        return ""
    shown = OUTCOME_LABELS[outcome]
    style = _OUTCOME_STYLE.get(outcome, "")
    return f"[{style}]{shown}[/]" if style else shown


async def execute_live(
    ctx: ServiceContext,
    engine: Engine,
    run: RunRead,
    *,
    live: bool,
    titles: Mapping[str, str] | None = None,
) -> RunRead:
    """Run ``engine`` here until ``run`` ends, drawing its steps as they change (if ``live``).

    Each approval the run asks for is named once (on the table's console, or stderr when
    nothing is drawn), from the approvals it had when this began and then from its
    ``approval.requested`` events: an approver elsewhere may decide one before any read of the
    run shows the step waiting. Returns the run as it ended.
    """
    import asyncio

    from missionctl.engine.heap import freeze_startup_heap
    from missionctl.services.usecases.approvals import list_approvals
    from missionctl.services.usecases.runs import read_run

    freeze_startup_heap()  # this command runs an engine: see engine.heap (ADRs 0019, 0022)
    stop = asyncio.Event()
    announced: set[str] = set()
    async with ctx.broadcaster.subscribe() as subscription:
        worker = asyncio.create_task(engine.run(stop))
        try:
            # Read again once subscribed: what happened before is in no event we will get.
            progress = Progress(await read_run(ctx, run_id=run.id), titles)
            display = Live(progress, console=console, refresh_per_second=4) if live else None
            with display or contextlib.nullcontext():
                asked_before = await list_approvals(ctx, state="all", run_id=run.id)
                for asked in sorted(asked_before, key=lambda approval: approval.requested_at):
                    tier = _declared_tier(progress.run, asked.step_id) or asked.risk_tier
                    _announce(asked.step_id, asked.attempt, tier, announced, display)
                while progress.run.status.value not in _FINAL_STATUSES:
                    batch = await subscription.get_many_within(_POLL_S)
                    records = [r for r in batch if r.run_id == run.id]
                    if batch and not records:
                        continue
                    progress.run = await read_run(ctx, run_id=run.id)
                    _announce_requests(progress.run, records, announced, display)
                    if any(r.type in _RUN_ENDED for r in records):
                        break
                # A read may see the run end before its last events are taken.
                records = [r for r in subscription.drain() if r.run_id == run.id]
                _announce_requests(progress.run, records, announced, display)
            if display is not None and not console.is_terminal:
                console.line()  # a Live drawn to a file or pipe ends without one
        finally:
            stop.set()
            await worker
    return await read_run(ctx, run_id=run.id)


def follow_polling(
    read: Callable[[], RunRead], run: RunRead, *, live: bool, every_s: float = 0.5
) -> RunRead:
    """Read the run with ``read`` every ``every_s`` until it ends, drawing it as it changes.

    For a run another process's engine executes (a server's): no event reaches this one, so it
    looks. Steps that wait for approval are named once each, as ``execute_live`` names them.
    """
    announced: set[str] = set()
    progress = Progress(run)
    display = Live(progress, console=console, refresh_per_second=4) if live else None
    with display or contextlib.nullcontext():
        while progress.run.status.value not in _FINAL_STATUSES:
            _announce_approvals(progress.run, announced, display)
            time.sleep(every_s)
            progress.run = read()
    if display is not None and not console.is_terminal:
        console.line()  # a Live drawn to a file or pipe ends without one
    return progress.run


def _announce_approvals(run: RunRead, announced: set[str], display: Live | None) -> None:
    for step in run.steps:
        if step.status.value == "awaiting_approval":
            _announce(step.step_id, step.attempt, step.risk_tier, announced, display)


def _announce_requests(
    run: RunRead, records: list[EventRecord], announced: set[str], display: Live | None
) -> None:
    """Name the step of each ``approval.requested`` event among ``records`` (all of ``run``)."""
    for record in records:
        if record.type == ev.APPROVAL_REQUESTED:
            step_id = record.step_id or ""
            tier = _declared_tier(run, step_id) or str(record.payload.get("risk_tier", ""))
            _announce(step_id, int(record.payload.get("attempt", 0)), tier, announced, display)


def _declared_tier(run: RunRead, step_id: str) -> str | None:
    """The risk tier step ``step_id`` of ``run`` declares (an approval may ask at a higher one)."""
    return next((step.risk_tier for step in run.steps if step.step_id == step_id), None)


def _announce(
    step_id: str, attempt: int, risk_tier: str, announced: set[str], display: Live | None
) -> None:
    """Say once per attempt that step ``step_id`` waits for an approver."""
    key = f"{step_id}#{attempt}"
    if key in announced:
        return
    announced.add(key)
    message = Text.assemble(
        ("waiting for approval: ", "magenta"),
        f"step {step_id} ({risk_tier}); an approver decides it in the approvals queue",
    )
    if display is not None:
        display.console.print(message)
    else:
        err_console.print(message)
