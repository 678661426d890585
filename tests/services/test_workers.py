"""The registry of engines: registering, heartbeating, stopping cleanly, and who is alive."""

import asyncio
from datetime import timedelta

from missionctl.agents.registry import AgentRegistry
from missionctl.db.types import utcnow
from missionctl.domain.workers import ALIVE_S, WorkerKind
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.services import ServiceContext, workers
from tests.engine.helpers import FAST, running_engine


async def test_a_registered_worker_is_alive_until_its_heartbeats_stop(ctx: ServiceContext) -> None:
    worker_id = await workers.register_worker(
        ctx, name="host:1:abc", kind=WorkerKind.worker, concurrency=4
    )
    assert await workers.count_alive_workers(ctx) == 1
    later = utcnow() + timedelta(seconds=ALIVE_S + 1)
    # No heartbeat for longer than the window: no longer alive.
    assert await workers.count_alive_workers(ctx, now=later) == 0
    [seen] = await workers.list_workers(ctx, now=later)
    assert (seen.name, seen.kind, seen.concurrency, seen.alive) == (
        "host:1:abc",
        "worker",
        4,
        False,
    )
    # A heartbeat brings it back.
    assert await workers.heartbeat(ctx, worker_id=worker_id)
    assert await workers.count_alive_workers(ctx) == 1


async def test_a_worker_stopped_cleanly_is_not_alive_and_takes_no_heartbeat(
    ctx: ServiceContext,
) -> None:
    worker_id = await workers.register_worker(
        ctx, name="host:2:def", kind=WorkerKind.embedded, concurrency=1
    )
    assert await workers.mark_stopped(ctx, worker_id=worker_id)
    assert await workers.count_alive_workers(ctx) == 0
    assert not await workers.heartbeat(ctx, worker_id=worker_id)
    assert not await workers.mark_stopped(ctx, worker_id=worker_id)
    [seen] = await workers.list_workers(ctx)
    assert seen.stopped_at is not None and not seen.alive


async def test_an_engine_registers_heartbeats_and_marks_itself_stopped(ctx: ServiceContext) -> None:
    async with running_engine(ctx, config=FAST, worker_id="bench-host:7:aaa") as engine:
        for _ in range(200):
            if engine.presence.worker_id is not None:
                break
            await asyncio.sleep(0.02)
        [seen] = await workers.list_workers(ctx)
        assert (seen.name, seen.kind, seen.alive) == ("bench-host:7:aaa", "worker", True)
        first_beat = seen.last_heartbeat_at
        await asyncio.sleep(1.3)  # the heartbeat interval is at least one second
        [seen] = await workers.list_workers(ctx)
        assert seen.last_heartbeat_at > first_beat
        assert await workers.count_alive_workers(ctx) == 1
    [seen] = await workers.list_workers(ctx)
    assert seen.stopped_at is not None
    assert await workers.count_alive_workers(ctx) == 0


async def test_an_engine_that_dies_stays_registered_until_its_heartbeat_is_too_old(
    ctx: ServiceContext,
) -> None:
    engine = Engine(ctx, AgentRegistry(), config=EngineConfig(heartbeat_s=0.2, poll_s=0.05))
    task = asyncio.create_task(engine.run(asyncio.Event()))
    for _ in range(200):
        if engine.presence.worker_id is not None:
            break
        await asyncio.sleep(0.02)
    task.cancel()  # no clean stop: a crash, as far as the registry can tell
    await asyncio.gather(task, return_exceptions=True)
    [seen] = await workers.list_workers(ctx)
    assert seen.stopped_at is None and seen.alive
    later = utcnow() + timedelta(seconds=ALIVE_S + 1)
    assert await workers.count_alive_workers(ctx, now=later) == 0
