"""Work queued by another process, which this engine never hears of, is found by polling."""

import asyncio
import time

import uvloop

from missionctl.engine.worker import EngineConfig
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.runs import read_run
from missionctl.settings import Settings
from tests.engine.helpers import running_engine, start, step, wait_for_run, wait_for_step

# Maintenance (which also wakes the loop) far away: only the poll can find the work.
POLLING = EngineConfig(concurrency=8, lease_s=60.0, heartbeat_s=60.0, poll_s=0.1)


async def test_an_engine_finds_work_started_elsewhere_when_idle_and_when_busy(
    ctx: ServiceContext, settings: Settings
) -> None:
    async with open_context(settings) as elsewhere, running_engine(ctx, POLLING):
        # Idle: the run's events reach only the other context's subscribers.
        began = time.monotonic()
        first = await start(elsewhere, [step("a"), step("b", "builtin:noop", "a")])
        assert (await wait_for_run(ctx, first.id, within_s=5)).status == "completed"
        assert time.monotonic() - began < 1.0  # a few polls, not a maintenance period
        # Busy: a long step runs (the loop sleeps until a step finishes) while work arrives.
        slow = await start(ctx, [step("slow", "builtin:sleep", inputs={"seconds": 2.0})])
        await wait_for_step(ctx, slow.id, "slow", "running")
        began = time.monotonic()
        second = await start(elsewhere, [step("c")])
        assert (await wait_for_run(ctx, second.id, within_s=5)).status == "completed"
        assert time.monotonic() - began < 1.0
        assert (await read_run(ctx, run_id=slow.id)).status == "running"
        assert (await wait_for_run(ctx, slow.id, within_s=5)).status == "completed"


def test_polling_works_on_the_servers_event_loop(settings: Settings) -> None:
    """``missionctl serve`` runs on uvloop, whose timers differ from asyncio's.

    Its handles do not tell their time, a wait that ends at once gets a handle of another kind,
    and its clock counts whole milliseconds: a timer may fire before the clock reaches its time.
    """
    busy_maintenance = EngineConfig(concurrency=8, lease_s=60.0, heartbeat_s=0.001, poll_s=0.1)
    fast_polls = EngineConfig(concurrency=8, lease_s=60.0, heartbeat_s=60.0, poll_s=0.01)

    async def scenario(config: EngineConfig) -> str:
        async with (
            open_context(settings) as ctx,
            open_context(settings) as elsewhere,
            running_engine(ctx, config),
        ):
            await asyncio.sleep(0.5)  # many polls come and go first
            run = await start(elsewhere, [step("a")])
            return (await wait_for_run(ctx, run.id, within_s=3)).status

    for config in (busy_maintenance, fast_polls):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            assert runner.run(scenario(config)) == "completed"
