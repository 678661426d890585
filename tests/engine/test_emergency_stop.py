"""The emergency stop: running programs die within seconds, and nothing starts until released.

The steps are real programs (a Python child that writes its PID, then sleeps a minute), so the
tests check what an operator cares about: that the processes are gone, not only the rows.
"""

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from missionctl.engine.worker import Engine
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.controls import engage_emergency_stop, release_emergency_stop
from missionctl.services.usecases.runs import read_run
from missionctl.settings import Settings
from tests.engine.helpers import (
    FAST,
    allow,
    host_pids,
    run_events,
    running_engine,
    start,
    step,
    wait_for_run,
)

# The run's id in the program's command line is how the test finds its host pid: a sandboxed
# program's own pid is another inside its pid namespace.
SLEEPER = "import time; time.sleep(60)  # ${run_id}"
STEPS = 4


@pytest.fixture(autouse=True)
async def listed(ctx: ServiceContext) -> None:
    """The sleepers' interpreter is allow-listed: they start without an approver."""
    await allow(ctx, sys.executable)


def _sleepers(count: int = STEPS) -> list[dict[str, object]]:
    return [
        step(
            f"sleeper-{i}",
            "command",
            inputs={"argv": [sys.executable, "-c", SLEEPER]},
            risk_tier="read",
            requires_approval=False,
        )
        for i in range(count)
    ]


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has exited: it only awaits its reaping)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):  # reaped since, even while being read
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


async def _running_pids(
    ctx: ServiceContext, engine: Engine, run_id: uuid.UUID, count: int = STEPS
) -> list[int]:
    """Wait until ``count`` steps of the run are running, each with its program alive."""
    deadline = time.monotonic() + 30
    while True:
        pids = host_pids(str(run_id))
        run = await read_run(ctx, run_id=run_id)
        running = [s for s in run.steps if s.status == "running"]
        if len(pids) == count and len(running) == count and engine.inflight == count:
            assert all(_alive(pid) for pid in pids)
            return pids
        assert time.monotonic() < deadline, f"only {pids} of {count} children started"
        await asyncio.sleep(0.05)


async def _all_gone(pids: list[int], within_s: float) -> float:
    """Seconds until none of ``pids`` is alive; fails after ``within_s``."""
    started = time.monotonic()
    while any(_alive(pid) for pid in pids):
        elapsed = time.monotonic() - started
        assert elapsed < within_s, f"still alive after {elapsed:.1f} s: " + str(
            [pid for pid in pids if _alive(pid)]
        )
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_the_stop_kills_running_programs_and_new_runs_wait_for_the_release(
    ctx: ServiceContext,
) -> None:
    run = await start(ctx, _sleepers())
    async with running_engine(ctx) as engine:
        pids = await _running_pids(ctx, engine, run.id)

        result = await engage_emergency_stop(ctx, actor="user:ops", reason="runaway jobs")
        await _all_gone(pids, within_s=2.0)
        assert result.aborted_runs == [run.id] and result.canceled_steps == STEPS
        stopped = await read_run(ctx, run_id=run.id)
        assert stopped.status == "aborted"
        assert [s.status for s in stopped.steps] == ["canceled"] * STEPS
        assert stopped.error is not None and "emergency stop" in stopped.error

        # While the stop is on, a new run is created but nothing of it is dispatched.
        later = await start(ctx, [step("first", "builtin:noop"), step("then", "builtin:noop")])
        await asyncio.sleep(1.0)
        assert not [e for e in await run_events(ctx, later.id) if e.type == "step.started"]
        waiting = await read_run(ctx, run_id=later.id)
        assert {s.status for s in waiting.steps} == {"queued"}

        await release_emergency_stop(ctx, actor="user:admin", reason="fixed")
        done = await wait_for_run(ctx, later.id)
    assert done.status == "completed"
    assert (await read_run(ctx, run_id=run.id)).status == "aborted"  # stays aborted
    kinds = [e.type for e in await run_events(ctx, run.id)]
    assert kinds.count("step.canceled") == STEPS and kinds[-1] == "run.aborted"


async def test_an_engine_stops_its_steps_when_another_process_engages_the_stop(
    ctx: ServiceContext, settings: Settings
) -> None:
    run = await start(ctx, _sleepers())
    async with running_engine(ctx, FAST) as engine:
        pids = await _running_pids(ctx, engine, run.id)
        # Another process: its own context and broadcaster; this engine hears no event of it.
        async with open_context(settings, upgrade=False) as other:
            await engage_emergency_stop(other, actor="user:ops", reason="from elsewhere")
            took = await _all_gone(pids, within_s=2.0)
            assert took < 2.0
            for _ in range(100):
                if engine.inflight == 0:
                    break
                await asyncio.sleep(0.02)
            assert engine.inflight == 0
            stopped = await read_run(ctx, run_id=run.id)
            assert (stopped.status, {s.status for s in stopped.steps}) == (
                "aborted",
                {"canceled"},
            )
            await release_emergency_stop(other, actor="user:admin")
