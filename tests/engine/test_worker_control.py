"""Two engines on one database, steered through the registry of workers (ADR 0058).

Each engine has its own service context (its own connections and writer), as two processes
would. Steps run a gate agent that waits until the test opens the gate, so which engine holds
which step is under the test's control. Time past the heartbeat thresholds is injected (the
presence's clock, ``now=`` of the services), never slept.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.workers import OFFLINE_S, STALE_S, WorkerCommand, WorkerKind, WorkerStatus
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.schemas.health import WorkerDetail
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import workers
from missionctl.services.usecases.audit import read_event_page
from tests.engine.helpers import run_events, start, step, wait_for_run

ONE_AT_ONCE = EngineConfig(concurrency=1, lease_s=2.0, heartbeat_s=0.2, poll_s=0.05)
GATED = "builtin:sleep"  # a name workflows may use; the gate agent does the work


class Gate:
    """An agent whose steps run until ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def run(self, step: StepContext) -> AgentResult:
        await self.release.wait()
        return AgentResult(outputs={"step": step.step_id})


def gated(gate: Gate) -> AgentRegistry:
    agents = AgentRegistry()
    agents.register(GATED, gate)
    return agents


async def until(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``within_s``."""
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def engine_on(
    ctx: ServiceContext,
    agents: AgentRegistry,
    name: str,
    config: EngineConfig = ONE_AT_ONCE,
    kind: WorkerKind = WorkerKind.worker,
) -> AsyncIterator[tuple[Engine, asyncio.Event, "asyncio.Task[None]"]]:
    """An engine with a context of its own, as in another process; stopped cleanly at the end."""
    async with open_context(ctx.settings) as own:
        engine = Engine(own, agents, config=config, worker_id=name, kind=kind)
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        try:
            await until(lambda: _registered(engine), f"{name} registered")
            yield engine, stop, task
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)


async def _registered(engine: Engine) -> bool:
    return engine.presence.worker_id is not None


async def shown(ctx: ServiceContext, engine: Engine, now: datetime | None = None) -> WorkerDetail:
    assert engine.presence.worker_id is not None
    return await workers.read_worker(ctx, worker_id=engine.presence.worker_id, now=now)


async def started_by(ctx: ServiceContext, run_id: uuid.UUID) -> dict[str, str]:
    """Which worker started each step of the run."""
    return {
        e.step_id or "": e.payload["worker"]
        for e in await run_events(ctx, run_id)
        if e.type == ev.STEP_STARTED
    }


async def test_a_drained_engine_finishes_its_step_and_the_other_takes_the_rest(
    ctx: ServiceContext,
) -> None:
    gate = Gate()
    run = await start(ctx, [step(f"s{i}", GATED) for i in range(4)])
    async with engine_on(ctx, gated(gate), "host-a:1:aaa") as (a, _, _):
        await until(lambda: _holds(a, 1), "a holds a step")
        await workers.command_worker(
            ctx,
            worker_id=a.presence.worker_id or uuid.uuid4(),
            command=WorkerCommand.drain,
            actor="user:ops",
        )
        await until(lambda: _status_is(ctx, a, WorkerStatus.draining), "a reports draining")
        assert a.draining and a.inflight == 1
        wide = EngineConfig(concurrency=4, lease_s=2.0, heartbeat_s=0.2, poll_s=0.05)
        async with engine_on(ctx, gated(gate), "host-b:2:bbb", wide) as (b, _, _):
            await until(lambda: _holds(b, 3), "b takes the other three")
            listed = {w.name: w for w in await workers.list_workers(ctx)}
            assert listed["host-a:1:aaa"].status is WorkerStatus.draining
            await until(lambda: _held_count(ctx, b, 3), "b's heartbeat reports three held")
            seen_b = await shown(ctx, b)
            assert (seen_b.status, seen_b.busy) == (WorkerStatus.online, True)
            assert {GATED, "command"} <= set(seen_b.capabilities)
            assert {h.run_id for h in seen_b.held_steps} == {str(run.id)}
            gate.release.set()
            done = await wait_for_run(ctx, run.id)
            assert done.status == "completed"
            await until(lambda: _held_count(ctx, a, 0), "a's heartbeat reports nothing held")
            assert a.inflight == 0
    owners = await started_by(ctx, run.id)
    assert sorted(owners.values()).count("host-a:1:aaa") == 1  # only the step it held
    assert sorted(owners.values()).count("host-b:2:bbb") == 3


async def test_a_killed_engine_goes_stale_then_offline_and_one_offline_event_is_appended(
    ctx: ServiceContext,
) -> None:
    gate = Gate()
    run = await start(ctx, [step("held", GATED)])
    async with open_context(ctx.settings) as own_a:
        a = Engine(own_a, gated(gate), config=ONE_AT_ONCE, worker_id="host-a:1:dies")
        killed = asyncio.create_task(a.run(asyncio.Event()))
        await until(lambda: _held_count(ctx, a, 1), "a's heartbeat reports the held step")
        async with engine_on(ctx, gated(gate), "host-b:2:lives") as (b, _, _):
            killed.cancel()  # no clean stop: a crash, as far as anyone can tell
            await asyncio.gather(killed, return_exceptions=True)
            seen = await shown(ctx, a)
            assert seen.stopped_at is None and seen.status is WorkerStatus.online
            assert (await shown(ctx, a, utcnow() + timedelta(seconds=STALE_S + 5))).status is (
                WorkerStatus.stale
            )
            # Time moves past the offline threshold for b's presence, which sweeps after each
            # heartbeat; a server's sweep notices at the same moment.
            later = utcnow() + timedelta(seconds=OFFLINE_S + 5)
            b.presence.clock = lambda: later
            await until(lambda: _beat_at(ctx, b, later), "b heartbeats at the later time")
            await asyncio.gather(
                until(lambda: _offline_reported(ctx, a), "b's presence reports a offline"),
                workers.report_offline_workers(ctx, now=later),
            )
            assert (await shown(ctx, a)).status is WorkerStatus.offline
            # Its lease expires as always, and b runs the step again.
            gate.release.set()
            assert (await wait_for_run(ctx, run.id, within_s=20)).status == "completed"
            assert (await started_by(ctx, run.id))["held"] == "host-b:2:lives"
    offline = [e for e in await read_event_page(ctx, limit=5000) if e.type == ev.WORKER_OFFLINE]
    assert len(offline) == 1
    assert offline[0].payload["name"] == "host-a:1:dies"
    assert offline[0].payload["held_count"] == 1
    assert offline[0].payload["held_steps"][0]["step_id"] == "held"
    assert offline[0].payload["held_steps"][0]["run_id"] == str(run.id)


async def test_a_worker_asked_to_stop_drains_then_exits_on_its_own(ctx: ServiceContext) -> None:
    gate = Gate()
    run = await start(ctx, [step("first", GATED), step("second", GATED)])
    async with engine_on(ctx, gated(gate), "host-c:3:stops") as (c, stop, task):
        await until(lambda: _holds(c, 1), "c holds a step")
        worker_id = c.presence.worker_id or uuid.uuid4()
        await workers.command_worker(
            ctx, worker_id=worker_id, command=WorkerCommand.stop, actor="user:ops"
        )
        await until(lambda: _status_is(ctx, c, WorkerStatus.draining), "c drains")
        assert not task.done()  # it still holds its step
        gate.release.set()
        await asyncio.wait_for(task, timeout=10)  # it ended by itself, cleanly
        assert stop.is_set()
        seen = await workers.read_worker(ctx, worker_id=worker_id)
        assert seen.status is WorkerStatus.stopped and seen.held_count == 0
    owners = await started_by(ctx, run.id)
    assert list(owners) == ["first"]  # the second step waits for another worker


async def test_the_servers_engine_asked_to_stop_only_stops_claiming(ctx: ServiceContext) -> None:
    gate = Gate()
    gate.release.set()
    kind = WorkerKind.embedded
    async with engine_on(ctx, gated(gate), "host-s:4:srv", kind=kind) as (s, _, task):
        worker_id = s.presence.worker_id or uuid.uuid4()
        await workers.command_worker(
            ctx, worker_id=worker_id, command=WorkerCommand.stop, actor="user:ops"
        )
        await until(lambda: _status_is(ctx, s, WorkerStatus.draining), "it stops claiming")
        run = await start(ctx, [step("waits", GATED)])
        await asyncio.sleep(0.3)  # several polls: it claims nothing
        assert not task.done() and s.inflight == 0
        await workers.command_worker(
            ctx, worker_id=worker_id, command=WorkerCommand.resume, actor="user:ops"
        )
        assert (await wait_for_run(ctx, run.id)).status == "completed"
        assert (await shown(ctx, s)).status is WorkerStatus.online


async def test_a_new_concurrency_is_obeyed_at_the_next_heartbeat(ctx: ServiceContext) -> None:
    gate = Gate()
    run = await start(ctx, [step(f"s{i}", GATED) for i in range(3)])
    async with engine_on(ctx, gated(gate), "host-d:5:scales") as (d, _, _):
        await until(lambda: _holds(d, 1), "d holds one step")
        await workers.set_concurrency(
            ctx, worker_id=d.presence.worker_id or uuid.uuid4(), concurrency=3, actor="user:ops"
        )
        await until(lambda: _holds(d, 3), "d holds three")
        await until(lambda: _held_count(ctx, d, 3), "its heartbeat says so")
        seen = await shown(ctx, d)
        assert (seen.concurrency, seen.desired_concurrency) == (3, 3)
        gate.release.set()
        assert (await wait_for_run(ctx, run.id)).status == "completed"
        await until(lambda: _utilised(ctx, d), "its utilisation is reported")


async def test_a_worker_given_a_range_grows_for_the_queue_at_its_heartbeat(
    ctx: ServiceContext,
) -> None:
    gate = Gate()
    run = await start(ctx, [step(f"s{i}", GATED) for i in range(6)])
    async with engine_on(ctx, gated(gate), "host-e:6:grows") as (e, _, _):
        await until(lambda: _holds(e, 1), "e holds one step")
        await workers.set_autoscale(
            ctx,
            worker_id=e.presence.worker_id or uuid.uuid4(),
            minimum=1,
            maximum=4,
            actor="user:ops",
        )
        # Five ready steps for one worker running one: it grows to its maximum, and holds it.
        await until(lambda: _holds(e, 4), "e grows to four steps at once")
        await until(lambda: _held_count(ctx, e, 4), "its heartbeat says so")
        seen = await shown(ctx, e)
        assert (seen.concurrency, seen.autoscale_min, seen.autoscale_max) == (4, 1, 4)
        assert (seen.autoscale_reason or "").startswith("1 → 4 steps at once: 5+ queued")
        gate.release.set()
        assert (await wait_for_run(ctx, run.id)).status == "completed"
    resized = [
        e.payload for e in await read_event_page(ctx, limit=500) if e.type == ev.WORKER_AUTOSCALED
    ]
    assert [(p["previous"], p["concurrency"]) for p in resized] == [(1, 4)]


async def _holds(engine: Engine, count: int) -> bool:
    return engine.inflight == count


async def _status_is(ctx: ServiceContext, engine: Engine, status: WorkerStatus) -> bool:
    return (await shown(ctx, engine)).status is status


async def _held_count(ctx: ServiceContext, engine: Engine, count: int) -> bool:
    return engine.presence.worker_id is not None and (await shown(ctx, engine)).held_count == count


async def _beat_at(ctx: ServiceContext, engine: Engine, moment: datetime) -> bool:
    return (await shown(ctx, engine)).last_heartbeat_at >= moment


async def _offline_reported(ctx: ServiceContext, engine: Engine) -> bool:
    return (await shown(ctx, engine)).offline_reported_at is not None


async def _utilised(ctx: ServiceContext, engine: Engine) -> bool:
    seen = await shown(ctx, engine)
    return seen.utilisation_5m is not None and seen.utilisation_5m > 0
