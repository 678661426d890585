"""A worker given a range sizes itself from the queue at each heartbeat (ADR 0115).

Heartbeats are sent by hand with what the engine would report, and time past the cool-down is
injected (``now=``), never slept; ``tests/engine/test_worker_control.py`` has a real engine grow.
"""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.autoscaling import COOL_DOWN_S
from missionctl.domain.workers import EngineState, HeartbeatReport, HeldStep, WorkerKind
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.eventlog import EventRecord
from missionctl.services import ServiceContext
from missionctl.services.usecases import workers
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.runs import cancel_run
from tests.engine.helpers import start, step


def _report(concurrency: int, running: int = 0) -> HeartbeatReport:
    held = tuple(HeldStep(str(uuid.uuid4()), str(uuid.uuid4()), f"s{i}") for i in range(running))
    return HeartbeatReport(EngineState.running, concurrency, held, None, None)


async def _events(ctx: ServiceContext, type_: str) -> list[EventRecord]:
    return [e for e in await read_event_page(ctx, limit=5000) if e.type == type_]


async def _worker(ctx: ServiceContext, concurrency: int = 1) -> uuid.UUID:
    return await workers.register_worker(
        ctx, name=f"host:{concurrency}:auto", kind=WorkerKind.worker, concurrency=concurrency
    )


async def _beat(
    ctx: ServiceContext, worker_id: uuid.UUID, report: HeartbeatReport, now: datetime
) -> int | None:
    orders = await workers.heartbeat(ctx, worker_id=worker_id, report=report, now=now)
    assert orders is not None
    return orders.desired_concurrency


async def test_a_queue_grows_it_at_once_and_an_empty_one_halves_it_after_the_cool_down(
    ctx: ServiceContext,
) -> None:
    worker_id = await _worker(ctx)
    t0 = utcnow()
    await workers.set_autoscale(
        ctx, worker_id=worker_id, minimum=1, maximum=6, actor="user:ops", now=t0
    )
    run = await start(ctx, [step(f"s{i}") for i in range(5)])  # five ready steps, no engine

    assert await _beat(ctx, worker_id, _report(1), t0 + timedelta(seconds=1)) == 5
    [grown] = await _events(ctx, ev.WORKER_AUTOSCALED)
    assert grown.actor == "system"
    assert {k: grown.payload[k] for k in ("concurrency", "previous", "queued", "workers")} == {
        "concurrency": 5,
        "previous": 1,
        "queued": 5,
        "workers": 1,
    }
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert shown.autoscale_reason == grown.payload["reason"]
    assert shown.autoscale_reason.startswith("1 → 5 steps at once: 5 queued")
    # Its five slots take the five queued: it stays.
    assert await _beat(ctx, worker_id, _report(5), t0 + timedelta(seconds=2)) == 5

    await cancel_run(ctx, run_id=run.id, actor="user:ops")
    changed = t0 + timedelta(seconds=1)
    early = changed + timedelta(seconds=COOL_DOWN_S - 1)
    assert await _beat(ctx, worker_id, _report(5), early) == 5  # not yet
    late = changed + timedelta(seconds=COOL_DOWN_S)
    assert await _beat(ctx, worker_id, _report(5, running=1), late) == 3
    later = late + timedelta(seconds=COOL_DOWN_S)
    assert await _beat(ctx, worker_id, _report(3, running=1), later) == 2
    sizes = [e.payload["concurrency"] for e in await _events(ctx, ev.WORKER_AUTOSCALED)]
    assert sizes == [5, 3, 2]


async def test_a_draining_worker_keeps_its_size_and_counts_for_no_share(
    ctx: ServiceContext,
) -> None:
    from missionctl.domain.workers import WorkerCommand

    draining = await _worker(ctx, concurrency=2)
    await workers.set_autoscale(ctx, worker_id=draining, minimum=1, maximum=8, actor="user:ops")
    await workers.command_worker(
        ctx, worker_id=draining, command=WorkerCommand.drain, actor="user:ops"
    )
    await start(ctx, [step(f"s{i}") for i in range(6)])
    report = HeartbeatReport(EngineState.draining, 2, (), None, None)
    orders = await workers.heartbeat(ctx, worker_id=draining, report=report)
    assert orders is not None and orders.desired_concurrency is None
    assert await _events(ctx, ev.WORKER_AUTOSCALED) == []

    # A running twin takes the whole queue: the draining one is no worker to share it with.
    running = await workers.register_worker(
        ctx, name="host:9:twin", kind=WorkerKind.worker, concurrency=1
    )
    await workers.set_autoscale(ctx, worker_id=running, minimum=1, maximum=8, actor="user:ops")
    assert await _beat(ctx, running, _report(1), utcnow()) == 6
    [grown] = await _events(ctx, ev.WORKER_AUTOSCALED)
    assert grown.payload["workers"] == 1


async def test_a_size_is_not_recorded_for_a_range_cleared_or_changed_since_it_was_read(
    ctx: ServiceContext,
) -> None:
    from missionctl.domain.autoscaling import Autoscale
    from missionctl.repositories import workers as worker_repo

    worker_id = await _worker(ctx, concurrency=2)
    await workers.set_autoscale(ctx, worker_id=worker_id, minimum=1, maximum=8, actor="user:ops")
    async with ctx.write() as session:
        stale = await worker_repo.record_autoscaled(
            session,
            worker_id=worker_id,
            policy=Autoscale(1, 4),
            concurrency=4,
            reason="read under another range",
            now=utcnow(),
        )
    assert stale is False
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert (shown.desired_concurrency, shown.autoscale_reason) == (None, None)


async def test_a_range_is_refused_with_the_bound_at_fault_and_nothing_changes(
    ctx: ServiceContext,
) -> None:
    worker_id = await _worker(ctx, concurrency=4)
    cases = [((0, 4), "minimum"), ((2, 1001), "maximum"), ((5, 2), "maximum")]
    for (low, high), field in cases:
        with pytest.raises(ValidationFailed) as refused:
            await workers.set_autoscale(
                ctx, worker_id=worker_id, minimum=low, maximum=high, actor="user:ops"
            )
        assert [p.field for p in refused.value.problems] == [field]
    with pytest.raises(NotFound):
        await workers.set_autoscale(
            ctx, worker_id=uuid.uuid4(), minimum=1, maximum=2, actor="user:ops"
        )
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert (shown.autoscale_min, shown.autoscale_max) == (None, None)
    assert await _events(ctx, ev.WORKER_AUTOSCALE_SET) == []

    await workers.mark_stopped(ctx, worker_id=worker_id)
    with pytest.raises(Conflict, match="stopped"):
        await workers.set_autoscale(
            ctx, worker_id=worker_id, minimum=1, maximum=2, actor="user:ops"
        )


async def test_while_it_sizes_itself_a_fixed_size_is_refused_until_the_range_is_cleared(
    ctx: ServiceContext,
) -> None:
    worker_id = await _worker(ctx, concurrency=4)
    await workers.set_autoscale(ctx, worker_id=worker_id, minimum=2, maximum=8, actor="user:ops")
    with pytest.raises(Conflict, match="sizes itself between 2 and 8") as refused:
        await workers.set_concurrency(ctx, worker_id=worker_id, concurrency=3, actor="user:ops")
    assert refused.value.field == "concurrency"

    cleared = await workers.clear_autoscale(ctx, worker_id=worker_id, actor="user:ops")
    assert (cleared.autoscale_min, cleared.autoscale_max, cleared.desired_concurrency) == (
        None,
        None,
        4,
    )
    [event] = await _events(ctx, ev.WORKER_AUTOSCALE_CLEARED)
    assert event.actor == "user:ops" and event.payload["previous"] == [2, 8]
    with pytest.raises(Conflict, match="does not size itself"):
        await workers.clear_autoscale(ctx, worker_id=worker_id, actor="user:ops")
    done = await workers.set_concurrency(ctx, worker_id=worker_id, concurrency=3, actor="user:ops")
    assert done.desired_concurrency == 3


async def test_two_operators_setting_the_same_range_at_once_record_it_once(
    ctx: ServiceContext,
) -> None:
    worker_id = await _worker(ctx, concurrency=2)

    async def ask(who: str) -> object:
        try:
            return await workers.set_autoscale(
                ctx, worker_id=worker_id, minimum=1, maximum=4, actor=who
            )
        except Conflict as conflict:
            return conflict

    answers = await asyncio.gather(ask("user:a"), ask("user:b"))
    assert sum(isinstance(a, Conflict) for a in answers) == 1
    assert len(await _events(ctx, ev.WORKER_AUTOSCALE_SET)) == 1


async def test_the_ready_queue_and_its_oldest_wait_are_exported_for_an_external_autoscaler(
    ctx: ServiceContext,
) -> None:
    from missionctl.api.metrics import render_metrics

    assert await workers.read_ready_queue(ctx) == (0, 0.0)
    await start(ctx, [step(f"s{i}") for i in range(3)])
    later = utcnow() + timedelta(seconds=30)
    queued, waited = await workers.read_ready_queue(ctx, now=later)
    assert queued == 3 and 29 <= waited <= 31
    scraped = (await render_metrics(ctx, database=True)).decode()
    assert "missionctl_queue_ready 3.0" in scraped
    assert "missionctl_queue_oldest_wait_seconds " in scraped


async def test_a_worker_started_with_a_range_registers_with_it_and_sizes_itself(
    ctx: ServiceContext,
) -> None:
    from missionctl.domain.autoscaling import Autoscale

    worker_id = await workers.register_worker(
        ctx, name="host:8:born", kind=WorkerKind.worker, concurrency=32, autoscale=Autoscale(2, 6)
    )
    shown = await workers.read_worker(ctx, worker_id=worker_id)
    assert (shown.autoscale_min, shown.autoscale_max) == (2, 6)
    # Started at 32, it is brought within its range at its first heartbeat.
    assert await _beat(ctx, worker_id, _report(32), utcnow()) == 6
