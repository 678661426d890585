"""The registry of engines: registering, heartbeating, commands, stopping, going offline."""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from missionctl.agents.registry import AgentRegistry
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.workers import (
    ALIVE_S,
    MAX_CONCURRENCY,
    OFFLINE_S,
    STALE_S,
    DesiredState,
    EngineState,
    HeartbeatReport,
    HeldStep,
    Orders,
    WorkerCommand,
    WorkerKind,
    WorkerStatus,
)
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.eventlog import EventRecord
from missionctl.services import ServiceContext
from missionctl.services.usecases import workers
from missionctl.services.usecases.audit import read_event_page
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


# --- Commands, heartbeats that obey them, and offline reports (ADR 0058) ----------------------


async def _events(ctx: ServiceContext, type_: str) -> list[EventRecord]:
    return [e for e in await read_event_page(ctx, limit=5000) if e.type == type_]


async def _register(
    ctx: ServiceContext, name: str = "host:3:ctl", now: datetime | None = None
) -> uuid.UUID:
    return await workers.register_worker(
        ctx,
        name=name,
        kind=WorkerKind.worker,
        concurrency=4,
        capabilities=["command", "llm:*"],
        now=now,
    )


REPORT = HeartbeatReport(
    state=EngineState.running,
    concurrency=4,
    held=(HeldStep(step_run_id="sr-1", run_id="run-1", step_id="build"),),
    utilisation_5m=12.5,
    utilisation_1h=3.0,
)


async def test_a_heartbeat_writes_the_report_and_reads_back_the_orders(
    ctx: ServiceContext,
) -> None:
    worker_id = await _register(ctx)
    orders = await workers.heartbeat(ctx, worker_id=worker_id, report=REPORT)
    assert orders == Orders(desired_state=DesiredState.run, desired_concurrency=None)
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert (shown.status, shown.busy, shown.held_count) == (WorkerStatus.online, True, 1)
    assert shown.capabilities == ["command", "llm:*"]
    assert (shown.utilisation_5m, shown.utilisation_1h) == (12.5, 3.0)
    assert [h.step_id for h in shown.held_steps] == ["build"]

    await workers.command_worker(
        ctx, worker_id=worker_id, command=WorkerCommand.drain, actor="user:ops"
    )
    await workers.set_concurrency(ctx, worker_id=worker_id, concurrency=9, actor="user:ops")
    orders = await workers.heartbeat(ctx, worker_id=worker_id, report=REPORT)
    assert orders == Orders(desired_state=DesiredState.drain, desired_concurrency=9)


async def test_each_command_is_an_event_with_its_actor_and_a_repeat_changes_nothing(
    ctx: ServiceContext,
) -> None:
    worker_id = await _register(ctx)
    drained = await workers.command_worker(
        ctx, worker_id=worker_id, command=WorkerCommand.drain, actor="user:ops"
    )
    assert (drained.desired_state, drained.commanded_by) == (DesiredState.drain, "user:ops")
    with pytest.raises(Conflict, match="already asked to drain"):
        await workers.command_worker(
            ctx, worker_id=worker_id, command=WorkerCommand.drain, actor="user:ops"
        )
    await workers.command_worker(
        ctx, worker_id=worker_id, command=WorkerCommand.stop, actor="user:ops"
    )
    resumed = await workers.command_worker(
        ctx, worker_id=worker_id, command=WorkerCommand.resume, actor="user:boss"
    )
    assert resumed.desired_state is DesiredState.run
    await workers.set_concurrency(ctx, worker_id=worker_id, concurrency=2, actor="user:ops")
    with pytest.raises(Conflict, match="already runs 2"):
        await workers.set_concurrency(ctx, worker_id=worker_id, concurrency=2, actor="user:ops")

    for type_, actor, fields in (
        (ev.WORKER_DRAINING, "user:ops", {"desired_state": "drain", "previous": "run"}),
        (ev.WORKER_STOP_REQUESTED, "user:ops", {"desired_state": "stop", "previous": "drain"}),
        (ev.WORKER_RESUMED, "user:boss", {"desired_state": "run", "previous": "stop"}),
        (ev.WORKER_CONCURRENCY_CHANGED, "user:ops", {"concurrency": 2, "previous": 4}),
    ):
        [event] = await _events(ctx, type_)
        assert event.actor == actor
        assert event.payload == {
            "worker_id": str(worker_id),
            "name": "host:3:ctl",
            "host": event.payload["host"],
            **fields,
        }


@pytest.mark.parametrize("bad", [0, -5, MAX_CONCURRENCY + 1, 2**63])
async def test_a_concurrency_out_of_bounds_is_refused_and_changes_nothing(
    ctx: ServiceContext, bad: int
) -> None:
    worker_id = await _register(ctx)
    with pytest.raises(ValidationFailed) as refused:
        await workers.set_concurrency(ctx, worker_id=worker_id, concurrency=bad, actor="user:o")
    assert refused.value.problems[0].field == "concurrency"
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert shown.desired_concurrency is None and shown.commanded_by is None
    assert await _events(ctx, ev.WORKER_CONCURRENCY_CHANGED) == []


async def test_a_stopped_or_offline_worker_takes_no_command(ctx: ServiceContext) -> None:
    stopped = await _register(ctx, "host:4:stopped")
    await workers.mark_stopped(ctx, worker_id=stopped)
    with pytest.raises(Conflict, match="is stopped"):
        await workers.command_worker(
            ctx, worker_id=stopped, command=WorkerCommand.drain, actor="user:ops"
        )
    silent = await _register(ctx, "host:5:silent", now=utcnow() - timedelta(seconds=600))
    for command in WorkerCommand:
        with pytest.raises(Conflict, match="is offline"):
            await workers.command_worker(ctx, worker_id=silent, command=command, actor="user:o")
    with pytest.raises(Conflict, match="is offline"):
        await workers.set_concurrency(ctx, worker_id=silent, concurrency=8, actor="user:o")
    with pytest.raises(NotFound, match="workers list"):
        await workers.command_worker(
            ctx, worker_id=uuid.uuid4(), command=WorkerCommand.drain, actor="user:o"
        )
    assert [e for e in await read_event_page(ctx) if e.type.startswith("worker.")] == []


async def test_a_silent_worker_goes_stale_then_offline_and_is_reported_once(
    ctx: ServiceContext,
) -> None:
    start = utcnow()
    worker_id = await _register(ctx, "host:6:dies", now=start)
    await workers.heartbeat(ctx, worker_id=worker_id, report=REPORT, now=start)
    stale_at = start + timedelta(seconds=STALE_S + 1)
    [seen] = await workers.list_workers(ctx, now=stale_at)
    assert (seen.status, seen.alive) == (WorkerStatus.stale, False)
    assert await workers.report_offline_workers(ctx, now=stale_at) == []

    offline_at = start + timedelta(seconds=OFFLINE_S + 1)
    # Three processes notice at the same moment: one of them reports it.
    found = await asyncio.gather(
        *(workers.report_offline_workers(ctx, now=offline_at) for _ in range(3))
    )
    assert sorted(map(len, found)) == [0, 0, 1]
    assert await workers.report_offline_workers(ctx, now=offline_at + timedelta(hours=1)) == []
    [event] = await _events(ctx, ev.WORKER_OFFLINE)
    assert event.actor == "system"
    assert event.payload["worker_id"] == str(worker_id)
    assert event.payload["name"] == "host:6:dies"
    assert event.payload["held_count"] == 1
    assert event.payload["held_steps"] == [
        {"step_run_id": "sr-1", "run_id": "run-1", "step_id": "build"}
    ]
    shown = await workers.read_worker(ctx, worker_id=worker_id, now=offline_at)
    assert shown.status is WorkerStatus.offline and shown.offline_reported_at is not None
    # A late heartbeat does not revive the row: the engine registers anew.
    assert await workers.heartbeat(ctx, worker_id=worker_id, report=REPORT) is None


async def test_a_stopped_worker_is_never_reported_offline(ctx: ServiceContext) -> None:
    worker_id = await _register(ctx, "host:7:clean", now=utcnow() - timedelta(seconds=600))
    await workers.mark_stopped(ctx, worker_id=worker_id, now=utcnow() - timedelta(seconds=500))
    assert await workers.report_offline_workers(ctx) == []
    assert await _events(ctx, ev.WORKER_OFFLINE) == []


async def test_hostile_registration_is_cut_to_the_columns(ctx: ServiceContext) -> None:
    worker_id = await workers.register_worker(
        ctx,
        name="n" * 10_000,
        kind=WorkerKind.worker,
        concurrency=1,
        capabilities=["x" * 5000] * 5000,
    )
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert len(shown.name) == 200
    assert len(shown.capabilities) == workers.MAX_CAPABILITIES
    assert {len(c) for c in shown.capabilities} == {200}
