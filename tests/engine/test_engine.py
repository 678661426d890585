"""The engine runs DAGs: ordering, concurrency, retries, timeouts, cancel, retry, budgets."""

import asyncio

from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run, retry_step
from tests.engine.helpers import (
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
    wait_for_step,
)


async def test_diamond_runs_each_step_once_after_its_dependencies(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step("a"),
            step("b", "builtin:noop", "a"),
            step("c", "builtin:noop", "a"),
            step("d", "builtin:noop", "b", "c"),
        ],
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    assert {s.step_id: (s.status, s.attempt) for s in done.steps} == dict.fromkeys(
        "abcd", ("succeeded", 1)
    )
    events = await run_events(ctx, run.id)
    seq = {(e.type, e.step_id): e.seq for e in events}
    assert seq[("step.started", "b")] > seq[("step.succeeded", "a")]
    assert seq[("step.started", "c")] > seq[("step.succeeded", "a")]
    assert seq[("step.started", "d")] > max(
        seq[("step.succeeded", "b")], seq[("step.succeeded", "c")]
    )
    assert sum(1 for e in events if e.type == "step.succeeded") == 4
    assert events[-1].type == "run.completed"


async def test_fan_out_respects_the_workflow_concurrency_limit(ctx: ServiceContext) -> None:
    children = [step(f"c{i}", "builtin:sleep", "root", inputs={"seconds": 0.15}) for i in range(6)]
    run = await start(
        ctx,
        [step("root"), *children, step("join", "builtin:noop", *[f"c{i}" for i in range(6)])],
        max_concurrency=2,
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    running = peak = 0
    for event in await run_events(ctx, run.id):
        if event.type == "step.started":
            running += 1
            peak = max(peak, running)
        elif event.type in ("step.succeeded", "step.failed"):
            running -= 1
    assert peak == 2


async def test_a_failure_is_retried_and_then_succeeds(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step(
                "flaky",
                "builtin:fail",
                inputs={"fail_attempts": 1},
                retry={"max_attempts": 3, "backoff_s": 0.01},
            )
        ],
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    assert (done.steps[0].status, done.steps[0].attempt) == ("succeeded", 2)
    types = [e.type for e in await run_events(ctx, run.id) if e.step_id == "flaky"]
    assert types == [
        "step.queued",
        "step.started",
        "step.log",
        "step.retry_scheduled",
        "step.started",
        "step.succeeded",
    ] or (types.count("step.retry_scheduled") == 1 and types[-1] == "step.succeeded")


async def test_a_step_that_runs_too_long_times_out(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step("slow", "builtin:sleep", inputs={"seconds": 10}, timeout_s=0.2),
            step("after", "builtin:noop", "slow"),
        ],
    )
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "failed"
    slow, after = done.steps
    assert slow.status == "failed" and "timed out after 0.2 s" in (slow.error or "")
    assert after.status == "blocked"


async def test_cancel_mid_run_stops_the_running_step(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step("long", "builtin:sleep", inputs={"seconds": 30}),
            step("next", "builtin:noop", "long"),
        ],
    )
    async with running_engine(ctx) as engine:
        await wait_for_step(ctx, run.id, "long", "running")
        await cancel_run(ctx, run_id=run.id, actor="user:test")
        for _ in range(100):
            if engine.inflight == 0:
                break
            await asyncio.sleep(0.02)
        assert engine.inflight == 0, "the running agent was not cancelled"
    done = await wait_for_run(ctx, run.id)
    assert done.status == "canceled"
    assert [s.status for s in done.steps] == ["canceled", "canceled"]


async def test_retry_of_a_failed_step_resumes_the_failed_run(ctx: ServiceContext) -> None:
    run = await start(
        ctx,
        [
            step("first"),
            step("broken", "builtin:fail", "first", inputs={"fail_attempts": 1}),
            step("last", "builtin:noop", "broken"),
        ],
    )
    async with running_engine(ctx):
        failed = await wait_for_run(ctx, run.id)
        assert failed.status == "failed"
        assert [s.status for s in failed.steps] == ["succeeded", "failed", "blocked"]
        await retry_step(ctx, run_id=run.id, step_id="broken", actor="user:test")
        done = await wait_for_run(ctx, run.id, {"completed"})
    assert [(s.step_id, s.status, s.attempt) for s in done.steps] == [
        ("first", "succeeded", 1),
        ("broken", "succeeded", 2),
        ("last", "succeeded", 1),
    ]
    types = [e.type for e in await run_events(ctx, run.id)]
    assert types.index("run.failed") < types.index("run.resumed") < types.index("run.completed")
