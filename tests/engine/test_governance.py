"""Governance in the engine: conditions, templates, approval gates, agent rules."""

import asyncio

import pytest
from sqlalchemy import text

from missionctl.errors import Conflict, ValidationFailed
from missionctl.schemas.governance import AgentUpdate
from missionctl.services import ServiceContext
from missionctl.services.usecases.agents import list_agents, update_agent
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.runs import read_run
from tests.engine.helpers import (
    allow,
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)


def statuses(run: object) -> dict[str, str]:
    return {s.step_id: s.status for s in run.steps}  # type: ignore[attr-defined]


async def test_a_false_condition_skips_the_step_and_its_dependents_still_run(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("a"),
            step("maybe", "builtin:noop", "a", when="inputs.deploy"),
            step("after", "builtin:noop", "maybe"),
            step("other", "builtin:noop", "a", when="not inputs.deploy"),
        ],
        inputs={"deploy": {"type": "boolean", "default": False}},
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    assert statuses(done) == {
        "a": "succeeded",
        "maybe": "skipped",
        "after": "succeeded",
        "other": "succeeded",
    }
    skipped = [e for e in await run_events(ctx, run.id) if e.type == "step.skipped"]
    assert [e.step_id for e in skipped] == ["maybe"]
    assert "inputs.deploy" in skipped[0].payload["reason"]


async def test_templates_render_inputs_and_upstream_outputs_before_the_step_runs(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, "python")
    run = await start(
        ctx,
        [
            step("build", "command", inputs={"argv": ["python", "-c", "print('built')"]}),
            step(
                "report",
                "command",
                "build",
                inputs={
                    "argv": [
                        "python",
                        "-c",
                        "import sys; print(sys.argv[1:])",
                        "{{ inputs.version }}",
                        "{{ steps.build.status }}:{{ steps.build.outputs.exit_code }}",
                    ]
                },
            ),
        ],
        inputs={"version": {"type": "string", "required": True}},
        run_inputs={"version": "1.2.3"},
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", done.error
    report = next(s for s in done.steps if s.step_id == "report")
    assert report.inputs["argv"][3:] == ["1.2.3", "succeeded:0"]
    assert "['1.2.3', 'succeeded:0']" in report.outputs["stdout_tail"]


async def test_a_template_that_reads_a_missing_output_fails_the_step_with_the_reason(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("a"),
            step("b", "command", "a", inputs={"argv": ["echo", "{{ steps.a.outputs.nope }}"]}),
            step("c", "builtin:noop", "b"),
        ],
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "failed"
    assert statuses(done) == {"a": "succeeded", "b": "failed", "c": "blocked"}
    failed = next(s for s in done.steps if s.step_id == "b")
    assert failed.error is not None and "argv.1" in failed.error and "nope" in failed.error


async def test_a_gated_step_pauses_the_run_until_approved_and_the_decision_is_recorded(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("read", "builtin:noop", risk_tier="read"),
            step("write", "builtin:noop", "read", risk_tier="write"),
            step("after", "builtin:noop", "write"),
        ],
    )
    async with running_engine(ctx):
        paused = await wait_for_run(ctx, run.id, {"paused"})
        assert statuses(paused) == {
            "read": "succeeded",
            "write": "awaiting_approval",
            "after": "waiting",
        }
        queue = await list_approvals(ctx)
        assert [(a.step_id, a.risk_tier, a.state) for a in queue] == [("write", "write", "pending")]
        # Read-only steps never entered the queue; nothing of the gated step was dispatched.
        await asyncio.sleep(0.3)
        events = await run_events(ctx, run.id)
        assert not [e for e in events if e.type == "step.started" and e.step_id == "write"]
        decided = await decide_approval(
            ctx, ref=queue[0].id, approve=True, actor="user:alice", reason="looks right"
        )
        assert (decided.state, decided.decided_by) == ("approved", "user:alice")
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    events = await run_events(ctx, run.id)
    approved = [e for e in events if e.type == "approval.approved"]
    assert len(approved) == 1
    assert approved[0].actor == "user:alice"
    assert approved[0].payload["reason"] == "looks right"
    assert approved[0].ts is not None
    types = [e.type for e in events]
    assert types.index("run.paused") < types.index("approval.approved") < types.index("run.resumed")
    assert await list_approvals(ctx) == []


async def test_a_decision_cannot_be_made_twice_or_changed_afterwards(ctx: ServiceContext) -> None:
    run = await start(ctx, [step("deploy", "builtin:noop", risk_tier="irreversible")])
    queue = await list_approvals(ctx)
    assert [a.step_id for a in queue] == ["deploy"]
    approval = queue[0]
    results = await asyncio.gather(
        decide_approval(ctx, ref=approval.id, approve=True, actor="user:a"),
        decide_approval(ctx, ref=approval.step_run_id, approve=False, actor="user:b", reason="no"),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], Conflict) and "already" in losers[0].message
    events = [e for e in await run_events(ctx, run.id) if e.type.startswith("approval.")]
    assert [e.type for e in events].count("approval.requested") == 1
    assert len([e for e in events if e.type != "approval.requested"]) == 1
    with pytest.raises(Exception, match="immutable"):
        async with ctx.write() as session:
            await session.execute(text("UPDATE approvals SET decided_by = 'user:mallory'"))
    with pytest.raises(Exception, match=r"append-only|immutable|not allowed|insufficient"):
        async with ctx.write() as session:
            await session.execute(text("UPDATE events SET actor = 'user:mallory'"))


async def test_a_rejection_needs_a_reason_and_fails_the_step_or_skips_it(
    ctx: ServiceContext,
) -> None:
    failing = await start(
        ctx,
        [step("push", "builtin:noop", risk_tier="write"), step("tag", "builtin:noop", "push")],
    )
    skipping = await start(
        ctx,
        [
            step("push", "builtin:noop", risk_tier="write", on_reject="skip"),
            step("tag", "builtin:noop", "push"),
        ],
    )
    pending = {a.run_id: a for a in await list_approvals(ctx)}
    with pytest.raises(ValidationFailed, match="reason"):
        await decide_approval(ctx, ref=pending[failing.id].id, approve=False, actor="user:a")
    await decide_approval(
        ctx, ref=pending[failing.id].id, approve=False, actor="user:a", reason="not today"
    )
    await decide_approval(
        ctx, ref=pending[skipping.id].id, approve=False, actor="user:a", reason="optional"
    )
    async with running_engine(ctx):
        failed = await wait_for_run(ctx, failing.id)
        completed = await wait_for_run(ctx, skipping.id)
    assert (failed.status, statuses(failed)) == ("failed", {"push": "failed", "tag": "blocked"})
    assert "rejected by user:a: not today" in (failed.steps[0].error or "")
    assert (completed.status, statuses(completed)) == (
        "completed",
        {"push": "skipped", "tag": "succeeded"},
    )


async def test_a_disabled_agent_holds_its_steps_with_a_reason_until_enabled(
    ctx: ServiceContext,
) -> None:
    await update_agent(
        ctx, name="builtin:sleep", data=AgentUpdate(enabled=False), actor="user:admin"
    )
    await update_agent(
        ctx,
        name="command",
        data=AgentUpdate(allowed_risk_tiers=["write"]),
        actor="user:admin",
    )
    await allow(ctx, "python")  # a read step of a listed program passes its gate; then it is held
    run = await start(
        ctx,
        [
            step("nap", "builtin:sleep", inputs={"seconds": 0}),
            step("shell", "command", inputs={"argv": ["python", "-c", "pass"]}),
            step("ok", "builtin:noop"),
        ],
    )
    async with running_engine(ctx):
        await wait_for_step(ctx, run.id, "ok", "succeeded")
        await asyncio.sleep(0.3)
        held = await read_run(ctx, run_id=run.id)
        assert statuses(held)["nap"] == "queued" and statuses(held)["shell"] == "queued"
        reasons = {
            e.step_id: e.payload["reason"]
            for e in await run_events(ctx, run.id)
            if e.type == "step.held"
        }
        assert "disabled" in reasons["nap"]
        assert "only write" in reasons["shell"] and "is read" in reasons["shell"]
        agents = {a.name: a for a in await list_agents(ctx)}
        assert (agents["builtin:sleep"].enabled, agents["builtin:sleep"].held_steps) == (False, 1)
        await update_agent(
            ctx, name="builtin:sleep", data=AgentUpdate(enabled=True), actor="user:admin"
        )
        await update_agent(
            ctx,
            name="command",
            data=AgentUpdate(allowed_risk_tiers=["read", "write"]),
            actor="user:admin",
        )
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    released = [e.step_id for e in await run_events(ctx, run.id) if e.type == "step.released"]
    assert sorted(released) == ["nap", "shell"]
