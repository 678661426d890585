"""The engine's spans: one per step attempt, and the run's root span when the run ends.

A step span is a child of its run's root span, whose ids come from the run id
(``telemetry.run_parent``), so the steps of one run share a trace whichever engine runs them.
It is the current span while the agent runs, so the agent's model calls nest under it. The run
span is emitted by the engine that hears the run end (the one that recorded it, or the server's
embedded engine for a run canceled there), from the run's stored start and end.

Created only while tracing is on (:func:`step_tracing` answers ``None`` otherwise), so an
engine without tracing pays one ``is None`` check per step.
"""

import asyncio
import contextvars
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from missionctl.eventlog import EventRecord
from missionctl.services import ServiceContext
from missionctl.services.usecases.execution import ClaimedStep, StepOutcome
from missionctl.services.usecases.runs import read_run
from missionctl.telemetry import emit_run_span, run_parent, tracer

log = logging.getLogger(__name__)

_FAILED_RUNS = {"failed", "aborted"}


@dataclass(slots=True)
class StepSpan:
    """A step attempt's open span, current in the task that runs it."""

    span: trace.Span
    token: contextvars.Token[otel_context.Context]


class StepTracing:
    """Opens and closes the spans of the steps one engine runs, and its runs' root spans."""

    def __init__(self, ctx: ServiceContext, step_tracer: trace.Tracer) -> None:
        """Trace through ``step_tracer``; run spans read their run through ``ctx``."""
        self._ctx = ctx
        self._tracer = step_tracer
        self._pending: set[asyncio.Task[None]] = set()

    def started(self, claim: ClaimedStep) -> StepSpan:
        """Open the attempt's span and make it current in the calling task."""
        attributes: dict[str, AttributeValue] = {
            "missionctl.run.id": str(claim.run_id),
            "missionctl.step.id": claim.step_id,
            "missionctl.step.attempt": claim.attempt,
            "missionctl.agent": claim.agent,
        }
        if claim.mission_id is not None:
            attributes["missionctl.mission.id"] = str(claim.mission_id)
        span = self._tracer.start_span(
            f"step {claim.step_id}", context=run_parent(claim.run_id), attributes=attributes
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        return StepSpan(span=span, token=token)

    def ended(self, step: StepSpan, outcome: StepOutcome | None) -> None:
        """Close the attempt's span with its outcome (``None``: the step was stopped)."""
        otel_context.detach(step.token)
        span = step.span
        if outcome is None:
            span.set_attribute("missionctl.step.status", "canceled")
        else:
            span.set_attributes(
                {
                    "missionctl.step.status": "succeeded" if outcome.ok else "failed",
                    "missionctl.step.input_tokens": outcome.usage.input_tokens,
                    "missionctl.step.output_tokens": outcome.usage.output_tokens,
                    "missionctl.step.cost_micros": outcome.cost_micros,
                    "missionctl.step.duration_ms": outcome.duration_ms,
                }
            )
            if not outcome.ok:
                span.set_attribute("missionctl.step.retryable", outcome.retryable)
                span.set_status(trace.StatusCode.ERROR)
        span.end()

    def run_ended(self, record: EventRecord) -> None:
        """Emit the root span of the run whose end ``record`` announces, in the background."""
        if record.run_id is None:
            return
        task = asyncio.create_task(self._emit_run(record.run_id, record.ts))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        """Wait for the run spans still being emitted."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _emit_run(self, run_id: uuid.UUID, ended: datetime) -> None:
        try:
            run = await read_run(self._ctx, run_id=run_id)
        except Exception:
            log.exception("could not read run %s for its trace", run_id)
            return
        start = _utc(run.started_at or run.created_at)
        attributes: dict[str, AttributeValue] = {
            "missionctl.run.id": str(run.id),
            "missionctl.run.status": run.status.value,
            "missionctl.run.trigger": run.trigger,
            "missionctl.run.input_tokens": run.input_tokens,
            "missionctl.run.output_tokens": run.output_tokens,
            "missionctl.run.spent_usd": run.spent_usd,
        }
        if run.mission_id is not None:
            attributes["missionctl.mission.id"] = str(run.mission_id)
        emit_run_span(
            run.id,
            start=start,
            end=_utc(run.ended_at or ended),
            attributes=attributes,
            failed=run.status.value in _FAILED_RUNS,
        )


def step_tracing(ctx: ServiceContext) -> StepTracing | None:
    """The engine's tracing, or ``None`` while tracing is off (then it costs nothing)."""
    engine_tracer = tracer("missionctl.engine")
    return None if engine_tracer is None else StepTracing(ctx, engine_tracer)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite gives naive times, stored as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
