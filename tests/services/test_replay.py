"""Time-travel replay of a real run: a step that used tokens, a step retried, an approval.

The run executes in an engine; the replay is then read as of several of its events and
compared with the events themselves and with the stored run.
"""

import dataclasses
import uuid

import pytest

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.domain.states import RunStatus
from missionctl.errors import NotFound, ValidationFailed
from missionctl.eventlog import EventRecord
from missionctl.llm import LLMUsage
from missionctl.schemas.runs import RunFilters, RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.dashboard import read_runs
from missionctl.services.usecases.replay import read_run_state
from tests.engine.helpers import (
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)

STEPS = ["prepare", "flaky", "deploy"]


class ChargedAgent:
    """Succeeds with outputs and the usage a model call would report (no model is called)."""

    async def run(self, step: StepContext) -> AgentResult:
        usage = LLMUsage(input_tokens=1200, output_tokens=300)
        return AgentResult(outputs={"summary": "prepared"}, usage=usage, model="gpt-4o-mini")


def _priced(ctx: ServiceContext) -> ServiceContext:
    llm = ctx.settings.llm.model_copy(update={"model": "gpt-4o-mini"})
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"llm": llm}))


async def replayed_run(ctx: ServiceContext) -> tuple[RunRead, list[EventRecord]]:
    """Run prepare (charged) → flaky (fails once, retried) → deploy (approved); the events."""
    priced = _priced(ctx)
    agents = AgentRegistry()
    agents.register("llm:dev", ChargedAgent())
    retry = {"max_attempts": 2, "backoff_s": 0, "jitter": False}
    run = await start(
        priced,
        [
            step("prepare", "llm:dev", inputs={"topic": "release notes"}),
            step(
                "flaky",
                "builtin:fail",
                "prepare",
                inputs={"fail_attempts": 1, "message": "flaky once"},
                retry=retry,
            ),
            step("deploy", "builtin:noop", "flaky", risk_tier="write", inputs={"value": "v1"}),
        ],
    )
    async with running_engine(priced, agents=agents):
        await wait_for_step(priced, run.id, "deploy", "awaiting_approval")
        (pending,) = await list_approvals(priced, run_id=run.id)
        await decide_approval(
            priced, ref=pending.id, approve=True, actor="user:alice", reason="ship it"
        )
        done = await wait_for_run(priced, run.id)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    return done, await run_events(ctx, run.id)


def _seq(events: list[EventRecord], type_: str, step_id: str | None = None) -> int:
    return next(
        e.seq for e in events if e.type == type_ and (step_id is None or e.step_id == step_id)
    )


async def test_any_completed_run_from_the_audit_log_replays_every_step_in_order(
    ctx: ServiceContext,
) -> None:
    """Seed: select any completed execution and replay it; all steps, in their sequence."""
    run, events = await replayed_run(ctx)
    completed = await read_runs(ctx, filters=RunFilters(status=RunStatus.completed))
    assert run.id in {item.id for item in completed.items}
    for event in events:
        state = await read_run_state(ctx, run_id=run.id, at=event.seq)
        assert [s.step_id for s in state.steps] == STEPS
        assert state.at == event.seq and state.event.type == event.type
        assert state.seqs == [e.seq for e in events]
        status = event.payload.get("status")
        if status is None:
            continue
        if event.step_id is None:
            assert state.status == status
        else:
            replayed = next(s for s in state.steps if s.step_id == event.step_id)
            assert replayed.status == status
            assert replayed.attempt == event.payload.get("attempt", replayed.attempt)
    final = await read_run_state(ctx, run_id=run.id)
    assert final.status == "completed" and final.at == events[-1].seq
    assert [(s.step_id, s.status, s.attempt) for s in final.steps] == [
        (s.step_id, s.status, s.attempt) for s in run.steps
    ]


async def test_a_replay_shows_every_input_output_cost_and_decision(ctx: ServiceContext) -> None:
    """Seed: nothing from the original run is omitted (inputs, outputs, tokens, approvals)."""
    run, _ = await replayed_run(ctx)
    final = await read_run_state(ctx, run_id=run.id)
    for stored, replayed in zip(run.steps, final.steps, strict=True):
        assert replayed.inputs == stored.inputs
        assert replayed.outputs == stored.outputs
        assert (replayed.input_tokens, replayed.output_tokens) == (
            stored.input_tokens,
            stored.output_tokens,
        )
        assert replayed.cost_usd == stored.cost_usd
    prepare = final.steps[0]
    assert (prepare.input_tokens, prepare.output_tokens) == (1200, 300) and prepare.cost_usd > 0
    assert (final.input_tokens, final.output_tokens, final.cost_usd) == (
        run.input_tokens,
        run.output_tokens,
        run.spent_usd,
    )
    (decided,) = await list_approvals(ctx, state="decided", run_id=run.id)
    (decision,) = final.approvals
    assert (decision.step_id, decision.decision, decision.decided_by, decision.reason) == (
        "deploy",
        "approve",
        "user:alice",
        "ship it",
    )
    assert decision.approval_id == decided.id
    # The event's time is the log's (database time of its batch), within moments of the row's.
    assert decided.decided_at is not None
    assert abs((decision.decided_at - decided.decided_at).total_seconds()) < 5


async def test_the_state_as_of_earlier_events(ctx: ServiceContext) -> None:
    run, events = await replayed_run(ctx)
    created = await read_run_state(ctx, run_id=run.id, at=events[0].seq)
    assert created.status == "pending" and created.position == 1
    assert all(s.status == "waiting" and s.inputs is None for s in created.steps)

    running = await read_run_state(ctx, run_id=run.id, at=_seq(events, "step.started", "prepare"))
    prepare = running.steps[0]
    assert prepare.status == "running" and prepare.inputs == {"topic": "release notes"}
    assert prepare.outputs is None and prepare.cost_usd == 0 and running.cost_usd == 0

    retried = await read_run_state(
        ctx, run_id=run.id, at=_seq(events, "step.retry_scheduled", "flaky")
    )
    prepare, flaky, deploy = retried.steps
    assert prepare.outputs == {"summary": "prepared"} and prepare.input_tokens == 1200
    assert (flaky.status, flaky.attempt, flaky.error) == ("queued", 2, "flaky once")
    (first,) = flaky.attempts
    assert (first.attempt, first.outcome, first.error) == (1, "failed", "flaky once")
    assert first.ended_at is not None and first.duration_ms is not None
    assert flaky.outputs is None and deploy.status == "waiting" and deploy.inputs is None

    asked = await read_run_state(ctx, run_id=run.id, at=_seq(events, "approval.requested"))
    assert asked.steps[2].status == "awaiting_approval" and asked.approvals == []
    assert asked.steps[1].status == "succeeded" and len(asked.steps[1].attempts) == 2
    assert asked.steps[1].error is None

    approved = await read_run_state(ctx, run_id=run.id, at=_seq(events, "approval.approved"))
    assert [d.decision for d in approved.approvals] == ["approve"]
    assert approved.steps[2].status == "queued"


async def test_a_cursor_past_the_end_is_the_final_state_and_before_the_start_is_refused(
    ctx: ServiceContext,
) -> None:
    run, events = await replayed_run(ctx)
    beyond = await read_run_state(ctx, run_id=run.id, at=events[-1].seq + 10_000)
    assert beyond.at == events[-1].seq and beyond.status == "completed"
    with pytest.raises(ValidationFailed) as refused:
        await read_run_state(ctx, run_id=run.id, at=events[0].seq - 1)
    assert refused.value.problems[0].field == "at"
    assert f"from {events[0].seq} to {events[-1].seq}" in refused.value.problems[0].message
    with pytest.raises(NotFound):
        await read_run_state(ctx, run_id=uuid.uuid4())
