"""Time-travel replay: a run as it was just after any of its events.

The state comes from the events alone (``domain.replay.replay_run_events``); what the events do
not carry comes from the step runs: a step's rendered inputs (shown once the step has started)
and its stored final outputs (shown once it has succeeded; a step succeeds at most once per run,
so the stored outputs are those it had from that moment on), each checked against the digest
its newest terminal event recorded in the chain (``outputs_verified``, ADR 0098).
"""

import uuid
from collections.abc import Sequence

from missionctl.db.models import Event, StepRun
from missionctl.domain.events import OUTPUTS_DIGEST_KEY
from missionctl.domain.replay import ApprovalDecision, RunSnapshot, StepSnapshot, replay_run_events
from missionctl.errors import NotFound, Problem, StateRefused
from missionctl.eventlog.receipts import outputs_digest
from missionctl.repositories import events as event_repo
from missionctl.repositories import runs as repo
from missionctl.repositories.evidence import DIGEST_EVENTS
from missionctl.schemas.replay import ApprovalDecisionRead, RunStateRead, StepStateRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.attempts import attempt_reads
from missionctl.services.usecases.dashboard.events import to_event_item
from missionctl.services.usecases.money import micros_to_usd


async def read_run_state(
    ctx: ServiceContext, *, run_id: uuid.UUID, at: int | None = None
) -> RunStateRead:
    """The run as of the event with seq ``at`` (``None``: its last event).

    An ``at`` between two of the run's events (they interleave with other runs' in the global
    log) gives the state after the earlier one; an ``at`` past the run's last event gives its
    final state.

    Raises:
        NotFound: no such run (``field="run_id"``).
        StateRefused: ``at`` is before the run's first event (``field="at"``).
    """
    async with ctx.read() as session:
        run_exists = await repo.read_run(session, run_id=run_id)
        if run_exists is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        events = await event_repo.read_run_events(session, run_id=run_id)
        rows = await repo.read_step_runs(session, run_id=run_id)
    if not events:  # a run is created with its run.created event, in one transaction
        raise NotFound(f"run {run_id} has no events", field="run_id")
    first, last = events[0].seq, events[-1].seq
    if at is not None and at < first:
        message = (
            f"{at} is before the run's first event: give a seq from {first} to {last}, or "
            "leave it out for the run's last event"
        )
        raise StateRefused([Problem("at", message)])  # the run's log decides, not the request
    snapshot = replay_run_events(events, at=at)
    return _state_read(run_id, snapshot, events, rows)


def _state_read(
    run_id: uuid.UUID, snapshot: RunSnapshot, events: Sequence[Event], rows: Sequence[StepRun]
) -> RunStateRead:
    position = snapshot.folded
    by_step = {row.step_id: row for row in rows}
    digests = _output_digests(events)
    steps = [
        _step_read(step_id, step, by_step[step_id], digests.get(step_id))
        for step_id, step in snapshot.steps.items()
        if step_id in by_step
    ]
    return RunStateRead(
        run_id=run_id,
        at=events[position - 1].seq,
        position=position,
        first_seq=events[0].seq,
        last_seq=events[-1].seq,
        seqs=[event.seq for event in events],
        event=to_event_item(events[position - 1]),
        status=snapshot.status,
        input_tokens=sum(s.input_tokens for s in steps),
        output_tokens=sum(s.output_tokens for s in steps),
        cost_usd=micros_to_usd(sum(s.cost_micros for s in snapshot.steps.values())),
        steps=steps,
        approvals=[_decision_read(d) for d in snapshot.decisions],
    )


def _output_digests(events: Sequence[Event]) -> dict[str, str]:
    """Each step's newest output digest in the run's events: the one its row must still match."""
    digests: dict[str, str] = {}
    for event in events:
        digest = (event.payload or {}).get(OUTPUTS_DIGEST_KEY)
        if event.type in DIGEST_EVENTS and event.step_id is not None and isinstance(digest, str):
            digests[event.step_id] = digest
    return digests


def _step_read(step_id: str, step: StepSnapshot, row: StepRun, digest: str | None) -> StepStateRead:
    shown = dict(row.outputs) if step.status == "succeeded" else None
    verified = None if shown is None or digest is None else outputs_digest(shown) == digest
    return StepStateRead(
        step_id=step_id,
        agent=row.agent,
        status=step.status,
        attempt=step.attempt,
        started=step.started,
        finished=step.finished,
        input_tokens=step.input_tokens,
        output_tokens=step.output_tokens,
        cost_usd=micros_to_usd(step.cost_micros),
        duration_ms=step.duration_ms,
        error=step.error,
        reused_from=None if step.reused_from is None else uuid.UUID(step.reused_from),
        approval_requested=step.approval_requested,
        inputs=dict(row.inputs) if step.started else None,
        outputs=shown,
        outputs_verified=verified,
        attempts=attempt_reads(step),
    )


def _decision_read(decision: ApprovalDecision) -> ApprovalDecisionRead:
    return ApprovalDecisionRead(
        seq=decision.seq,
        step_id=decision.step_id,
        approval_id=None if decision.approval_id is None else uuid.UUID(decision.approval_id),
        decision="approve" if decision.approved else "reject",
        decided_by=decision.decided_by,
        decided_by_user=decision.decided_by_user,
        decided_at=decision.decided_at,
        reason=decision.reason,
    )


__all__ = ["read_run_state"]
