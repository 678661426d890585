"""Leases recover dead workers' steps exactly once; budgets stop work before and during a run."""

import asyncio
import dataclasses
import sys
import threading
from pathlib import Path

import pytest

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.sandbox import Sandbox
from missionctl.engine.worker import EngineConfig
from missionctl.llm import LLMUsage
from missionctl.services import ServiceContext
from missionctl.services.usecases.execution import DagCache, StepOutcome, tick
from missionctl.services.usecases.runs import rerun_from_failure
from missionctl.settings import SandboxSettings
from tests.engine.helpers import (
    FAST,
    allow,
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)

SHORT_LEASES = EngineConfig(concurrency=4, lease_s=0.5, heartbeat_s=0.1, poll_s=0.05)


async def test_a_dead_workers_step_is_rerun_once_and_completed_once(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step("work", "builtin:sleep", inputs={"seconds": 0.6}),
            step("after", "builtin:noop", "work"),
        ],
    )
    claimed = []
    async with running_engine(ctx, SHORT_LEASES, worker_id="worker-a") as engine_a:
        await wait_for_step(ctx, run.id, "work", "running")
        claimed = [c for c, _ in engine_a._inflight.values()]
        # Leaving the block stops worker A abruptly: it never records the step's result.
    async with running_engine(ctx, SHORT_LEASES, worker_id="worker-b"):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    work = done.steps[0]
    assert (work.status, work.attempt) == ("succeeded", 2)

    # Worker A comes back from the dead with its old result: the write is fenced out.
    stale = StepOutcome(claim=claimed[0], ok=True, outputs={"late": True})
    await tick(
        ctx, worker="worker-a", outcomes=[stale], logs=[], capacity=0, lease_s=1, dags=DagCache()
    )

    events = await run_events(ctx, run.id)
    work_events = [e for e in events if e.step_id == "work"]
    assert [e.type for e in work_events if e.type == "step.succeeded"] == ["step.succeeded"]
    expired = [e for e in work_events if e.type == "step.lease_expired"]
    assert len(expired) == 1 and "worker-a" in expired[0].payload["error"]
    starts = [e.payload["worker"] for e in work_events if e.type == "step.started"]
    assert starts == ["worker-a", "worker-b"]
    assert "late" not in (await wait_for_run(ctx, run.id)).steps[0].outputs


class UsageAgent:
    """Reports token usage like an LLM agent would (no model is called)."""

    def __init__(self, input_tokens: int, output_tokens: int) -> None:
        self.usage = LLMUsage(input_tokens=input_tokens, output_tokens=output_tokens)

    async def run(self, step: StepContext) -> AgentResult:
        return AgentResult(outputs={"ok": True}, usage=self.usage, model="gpt-4o-mini")


def _priced(ctx: ServiceContext) -> ServiceContext:
    settings = ctx.settings.model_copy(
        update={"llm": ctx.settings.llm.model_copy(update={"model": "gpt-4o-mini"})}
    )
    return dataclasses.replace(ctx, settings=settings)


async def test_an_estimate_over_the_cap_fails_the_run_before_any_dispatch(
    ctx: ServiceContext,
) -> None:
    priced = _priced(ctx)
    # 1M tokens of gpt-4o-mini are estimated at $0.2625 (3/4 input at $0.15, 1/4 output at $0.60).
    run = await start(
        priced,
        [step("plan", "llm:architect", estimate_tokens=1_000_000)],
        run_budget_micros=100_000,
    )
    assert run.status == "failed"
    assert "exceeds the budget cap" in (run.error or "")
    async with running_engine(priced):
        done = await wait_for_run(priced, run.id)
    assert done.steps[0].status == "canceled"
    types = [e.type for e in await run_events(ctx, run.id)]
    assert types == ["run.created", "budget.exceeded", "step.canceled", "run.failed"]


async def test_spend_reaching_the_cap_stops_further_dispatch(ctx: ServiceContext) -> None:
    priced = _priced(ctx)
    steps = [
        step("s1", "llm:dev", estimate_tokens=10_000),
        step("s2", "llm:dev", "s1", estimate_tokens=10_000),
        step("s3", "llm:dev", "s2", estimate_tokens=10_000),
    ]
    run = await start(priced, steps, run_budget_micros=200_000)  # $0.20
    assert run.status == "running"
    async with running_engine(priced) as engine:
        engine.agents.register("llm:dev", UsageAgent(400_000, 100_000))  # $0.12 per step
        done = await wait_for_run(priced, run.id)
    assert done.status == "failed"
    assert [s.status for s in done.steps] == ["succeeded", "succeeded", "canceled"]
    assert done.spent_usd == 0.24 and done.input_tokens == 800_000 and done.output_tokens == 200_000
    assert "budget exhausted" in (done.error or "")
    events = await run_events(ctx, run.id)
    exceeded = [e for e in events if e.type == "budget.exceeded"]
    assert len(exceeded) == 1 and exceeded[0].payload["phase"] == "spend"
    warned = [e for e in events if e.type == "budget.warning"]
    assert len(warned) == 1 and warned[0].payload["spent_micros"] == 240_000
    assert [e.type for e in events].index("budget.warning") < [e.type for e in events].index(
        "budget.exceeded"
    )
    assert not any(e.type == "step.started" and e.step_id == "s3" for e in events)


async def test_rerun_from_the_failure_reuses_what_succeeded(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    marker = tmp_path / "fixed"
    check = [
        sys.executable,
        "-c",
        f"import pathlib, sys; sys.exit(0 if pathlib.Path({str(marker)!r}).exists() else 3)",
    ]
    await allow(ctx, sys.executable)  # a listed program runs without an approver
    run = await start(
        ctx,
        [
            step("prepare"),
            step("check", "command", "prepare", inputs={"argv": check}),
            step("ship", "builtin:noop", "check"),
        ],
    )
    # The program may read the marker's directory only because the sandbox is told so.
    sandbox = Sandbox(SandboxSettings(read_only_paths=[str(tmp_path)]))
    async with running_engine(ctx, FAST, agents=AgentRegistry(sandbox=sandbox)):
        failed = await wait_for_run(ctx, run.id)
        assert failed.status == "failed"
        assert "exited with code 3" in (failed.steps[1].error or "")
        marker.write_text("yes")
        rerun = await rerun_from_failure(ctx, run_id=run.id, actor="user:test")
        done = await wait_for_run(ctx, rerun.id)
    assert done.status == "completed" and done.rerun_of == run.id
    assert [(s.step_id, s.status) for s in done.steps] == [
        ("prepare", "succeeded"),
        ("check", "succeeded"),
        ("ship", "succeeded"),
    ]
    events = await run_events(ctx, rerun.id)
    assert [e.type for e in events if e.step_id == "prepare"] == ["step.reused"]
    assert any(e.type == "step.started" and e.step_id == "check" for e in events)


async def test_a_canceled_missions_run_cannot_be_rerun(ctx: ServiceContext) -> None:
    import pytest

    from missionctl.errors import Conflict
    from missionctl.schemas.missions import MissionCreate
    from missionctl.schemas.workflows import WorkflowSpec
    from missionctl.services.usecases.missions import create_mission
    from missionctl.services.usecases.runs import cancel_run, start_run
    from missionctl.services.usecases.workflows import create_workflow

    mission = await create_mission(ctx, data=MissionCreate(goal="Build a CLI"), actor="user:test")
    spec = WorkflowSpec.model_validate(
        {"name": "one", "steps": [step("only", "builtin:sleep", inputs={"seconds": 30})]}
    )
    workflow = await create_workflow(ctx, spec=spec, actor="user:test", mission_id=mission.id)
    run = await start_run(ctx, workflow_id=workflow.id, actor="user:test", mission_id=mission.id)
    await cancel_run(ctx, run_id=run.id, actor="user:test")
    with pytest.raises(Conflict, match="canceled; its runs cannot be rerun"):
        await rerun_from_failure(ctx, run_id=run.id, actor="user:test")


async def test_lease_maintenance_checkpoints_the_log_beside_the_writer(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's commits leave SQLite's log to a background checkpoint, which it runs."""
    calls: list[tuple[int, int] | None] = []
    checkpoint_sync = ctx.db.checkpoint_sync
    twice = threading.Event()

    def counted() -> tuple[int, int] | None:  # runs in a worker thread
        calls.append(checkpoint_sync())
        if len(calls) >= 2:
            twice.set()
        return calls[-1]

    monkeypatch.setattr(ctx.db, "checkpoint_sync", counted)
    async with running_engine(ctx, SHORT_LEASES):
        run = await start(ctx, [step("a"), step("b", "builtin:noop", "a")])
        assert (await wait_for_run(ctx, run.id)).status == "completed"
        await asyncio.to_thread(twice.wait, 5)
    assert len(calls) >= 2  # every heartbeat, not once
    if ctx.db.dialect == "sqlite":
        frames, done = calls[-1] or (0, 0)
        assert done == frames  # nothing was left in the log
    else:
        assert calls[-1] is None  # PostgreSQL has nothing to do
