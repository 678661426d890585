"""A step's stored outputs are vouched for by the chain: a row changed later is caught.

A step's outputs live in its row, outside the hash chain; the digest its terminal event records
is inside it. ``audit verify`` and every replay set the two side by side (ADR 0098).
"""

import uuid
from typing import Any

import pytest
from sqlalchemy import update

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.models import StepRun
from missionctl.domain.events import OUTPUTS_DIGEST_KEY
from missionctl.eventlog.receipts import outputs_digest
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_audit_log
from missionctl.services.usecases.evidence import check_outputs
from missionctl.services.usecases.replay import read_run_state
from missionctl.services.usecases.runs import read_run
from tests.engine.helpers import run_events, running_engine, start, step, wait_for_run

OUTPUTS = {"summary": "shipped", "files": ["a.py", "b.py"], "score": 0.75, "note": "café"}


class Writer:
    """Succeeds with outputs (no model is called)."""

    async def run(self, step: StepContext) -> AgentResult:
        return AgentResult(outputs=dict(OUTPUTS))


async def _finished_run(ctx: ServiceContext) -> uuid.UUID:
    agents = AgentRegistry()
    agents.register("llm:writer", Writer())
    run = await start(ctx, [step("write", "llm:writer"), step("after", "builtin:noop", "write")])
    async with running_engine(ctx, agents=agents):
        await wait_for_run(ctx, run.id)
    return run.id


async def _set_outputs(ctx: ServiceContext, run_id: uuid.UUID, step_id: str, value: Any) -> None:
    """What someone with write access to the database does: no event, no engine."""
    async with ctx.db.write() as session:
        await session.execute(
            update(StepRun)
            .where(StepRun.run_id == run_id, StepRun.step_id == step_id)
            .values(outputs=value)
        )


async def test_every_terminal_event_records_the_digest_of_the_outputs_its_row_holds(
    ctx: ServiceContext,
) -> None:
    run_id = await _finished_run(ctx)
    events = await run_events(ctx, run_id)
    succeeded = {e.step_id: e.payload for e in events if e.type == "step.succeeded"}
    assert succeeded["write"][OUTPUTS_DIGEST_KEY] == outputs_digest(OUTPUTS)
    stored = {s.step_id: s.outputs for s in (await read_run(ctx, run_id=run_id)).steps}
    assert succeeded["after"][OUTPUTS_DIGEST_KEY] == outputs_digest(stored["after"])
    created = next(e for e in events if e.type == "run.created")
    assert created.payload["output_digests"] is True
    report = await check_outputs(ctx, run_id=run_id)
    assert report.ok and report.matched == 2


@pytest.mark.chain_tampered
async def test_a_changed_output_row_is_caught_by_audit_verify_and_by_the_replay(
    ctx: ServiceContext,
) -> None:
    run_id = await _finished_run(ctx)
    assert (await verify_audit_log(ctx)).ok
    await _set_outputs(ctx, run_id, "write", {**OUTPUTS, "summary": "shipped, honestly"})

    audit = await verify_audit_log(ctx)
    assert audit.chain.ok  # the events themselves are untouched
    assert not audit.ok
    [problem] = audit.outputs.problems
    succeeded = next(
        e
        for e in await run_events(ctx, run_id)
        if e.type == "step.succeeded" and e.step_id == "write"
    )
    assert (problem.run_id, problem.step_id, problem.seq) == (run_id, "write", succeeded.seq)
    assert f"event seq {succeeded.seq}" in str(problem)

    state = await read_run_state(ctx, run_id=run_id)
    shown = {s.step_id: s.outputs_verified for s in state.steps}
    assert shown == {"write": False, "after": True}


@pytest.mark.chain_tampered
async def test_outputs_written_into_a_step_that_never_recorded_any_are_caught(
    ctx: ServiceContext,
) -> None:
    run = await start(ctx, [step("gate", "builtin:noop", requires_approval=True)])
    # The step waits for an approver and has produced nothing; a row given outputs lies.
    await _set_outputs(ctx, run.id, "gate", {"approved": True})
    report = await check_outputs(ctx, run_id=run.id)
    [problem] = report.problems
    assert problem.step_id == "gate" and problem.seq is None
    assert "no event recorded" in problem.reason
