"""A program is judged again whenever a new attempt of it would start (ADR 0024).

An automatic retry and a recovered lease queue a new attempt without admission; a change to
the allow-list skips rows locked at that moment. The engine judges every ``command`` step
again when it claims it, so a program taken off the list waits for an approver. And a
decision that admits a program never deadlocks with the emergency stop.
"""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from missionctl.db.models import Agent, Control, StepRun
from missionctl.db.types import utcnow
from missionctl.errors import Conflict
from missionctl.schemas.governance import AgentUpdate
from missionctl.services import ServiceContext
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.controls import engage_emergency_stop, release_emergency_stop
from missionctl.services.usecases.execution import DagCache
from missionctl.services.usecases.execution.ticks import recover_expired_leases
from missionctl.services.usecases.runs import read_run
from tests.engine.helpers import allow, run_events, running_engine, start, step, wait_for_step


async def disallow(ctx: ServiceContext, program: str) -> None:
    change = AgentUpdate(allowed_programs={program: None})
    await update_agent(ctx, name="command", data=change, actor="user:admin")


def status_of(run: object, step_id: str) -> tuple[str, int]:
    [found] = [s for s in run.steps if s.step_id == step_id]  # type: ignore[attr-defined]
    return found.status, found.attempt


async def test_an_automatic_retry_of_a_program_taken_off_the_list_waits(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, "sh")
    flaky = step(
        "flaky",
        "command",
        inputs={"argv": ["sh", "-c", "sleep 1; exit 1"]},
        retry={"max_attempts": 3, "backoff_s": 0.05, "jitter": False},
    )
    run = await start(ctx, [flaky])
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "flaky", "running")
        await disallow(ctx, "sh")  # attempt 1 runs on; the recall does not see it
        await wait_for_step(ctx, run.id, "flaky", "awaiting_approval")
    assert status_of(await read_run(ctx, run_id=run.id), "flaky") == ("awaiting_approval", 2)
    [approval] = await list_approvals(ctx, state="pending", run_id=run.id)
    assert (approval.attempt, approval.risk_tier) == (2, "write")
    [asked] = [e for e in await run_events(ctx, run.id) if e.type == "approval.requested"]
    assert (
        asked.payload["attempt"] == 2
        and "not on the command agent's allow-list" in (asked.payload["reason"])
    )


async def test_a_recovered_lease_of_a_program_taken_off_the_list_waits(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, "sh")
    run = await start(ctx, [step("job", "command", inputs={"argv": ["sh", "-c", "exit 0"]})])
    async with ctx.write() as session:  # a worker claimed it, then vanished
        await session.execute(
            update(StepRun)
            .where(StepRun.run_id == run.id)
            .values(
                status="running",
                lease_owner="gone",
                lease_token=run.id,
                lease_expires_at=utcnow() - timedelta(seconds=1),
            )
        )
    await disallow(ctx, "sh")
    assert await recover_expired_leases(ctx, dags=DagCache(ctx.dags)) == 1
    assert status_of(await read_run(ctx, run_id=run.id), "job") == ("queued", 2)
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "job", "awaiting_approval")
    [approval] = await list_approvals(ctx, state="pending", run_id=run.id)
    assert approval.attempt == 2


async def test_a_queued_program_the_recall_missed_waits_when_claimed(ctx: ServiceContext) -> None:
    await allow(ctx, "sh")
    run = await start(ctx, [step("job", "command", inputs={"argv": ["sh", "-c", "exit 0"]})])
    async with ctx.write() as session:  # the list changed, and the recall skipped the row
        await session.execute(
            update(Agent).where(Agent.name == "command").values(config={"allowed_programs": {}})
        )
        await session.execute(
            update(Control).where(Control.id == 1).values(version=Control.version + 1)
        )
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "job", "awaiting_approval")
    assert status_of(await read_run(ctx, run_id=run.id), "job") == ("awaiting_approval", 1)
    # Approved, it runs: the claim lets through what an approver approved for this attempt.
    [approval] = await list_approvals(ctx, state="pending", run_id=run.id)
    await decide_approval(ctx, ref=approval.id, approve=True, actor="user:ann")
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "job", "succeeded")


# SQLite serialises writers, so there is no lock order to get wrong: PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_decision_that_admits_a_program_never_deadlocks_with_the_emergency_stop(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, "true")
    steps = [
        step("ask", "command", inputs={"argv": ["date"]}, on_reject="skip"),
        step("next", "command", "ask", inputs={"argv": ["true"]}),
    ]
    for _ in range(25):
        run = await start(ctx, steps)
        [approval] = await list_approvals(ctx, state="pending", run_id=run.id)
        # Rejecting skips `ask`, which admits `next`: a program judged under the rules' lock.
        results = await asyncio.gather(
            decide_approval(ctx, ref=approval.id, approve=False, actor="user:ann", reason="no"),
            engage_emergency_stop(ctx, actor="user:admin"),
            return_exceptions=True,
        )
        for result in results:  # a decision the stop overtook is refused, never a deadlock
            if isinstance(result, BaseException) and not isinstance(result, Conflict):
                raise result
        await release_emergency_stop(ctx, actor="user:admin")
