"""The registry of engines: registering, heartbeats, commands, clean stops, and offline reports.

An engine (``engine.presence.Presence``) registers when it starts, heartbeats from a task of
its own every ``domain.workers.heartbeat_interval`` seconds, and marks itself stopped when it
stops cleanly. Heartbeats are no events: they change nothing anyone replays, and one every few
seconds per engine would bury the log. Each heartbeat writes what the engine does and reads
back what the control plane asks of it (``command_worker``, ``set_concurrency``): the command is
a column of the worker's row, so it reaches an engine on any machine (ADR 0058). A worker given
a range (``set_autoscale``) is re-sized by its own heartbeat from the queue, within it
(``domain.autoscaling``, ADR 0115). Commands, each size a range chose, and a worker found
offline are events.
"""

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl import __version__
from missionctl.db.models import Worker
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.autoscaling import COOL_DOWN_S, Autoscale, QueueFigures, Resize, resize
from missionctl.domain.workers import (
    DesiredState,
    EngineState,
    HeartbeatReport,
    Orders,
    WorkerCommand,
    WorkerKind,
    WorkerStatus,
    check_autoscale,
    check_concurrency,
    command_target,
    is_alive,
    worker_status,
)
from missionctl.errors import Conflict, NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import workers as repo
from missionctl.schemas.health import HeldStepRead, WorkerDetail, WorkerRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.periodic import repeating

log = logging.getLogger(__name__)

RECENT_S = 86_400.0
"""How far back ``list_workers`` looks: workers that heartbeat within the last day."""

SWEEP_EVERY_S = 5.0
"""How often the server looks for workers gone offline (engines look at each heartbeat too)."""

MAX_CAPABILITIES = 200
"""The most agent names and kinds a worker's row keeps (a registry has a few dozen)."""

OFFLINE_EVENT_STEPS = 100
"""The most held steps a ``worker.offline`` event lists; ``held_count`` says how many there were."""

_COMMAND_EVENTS = {
    WorkerCommand.drain: ev.WORKER_DRAINING,
    WorkerCommand.resume: ev.WORKER_RESUMED,
    WorkerCommand.stop: ev.WORKER_STOP_REQUESTED,
}


async def register_worker(
    ctx: ServiceContext,
    *,
    name: str,
    kind: WorkerKind,
    concurrency: int,
    capabilities: Sequence[str] = (),
    autoscale: Autoscale | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """Record that an engine called ``name`` starts in this process; returns its worker id.

    ``capabilities`` are the agent names and kinds (``llm:*``) its registry resolves;
    ``autoscale`` the range it sizes itself within from its first heartbeat, if any
    (``MISSIONCTL_ENGINE_AUTOSCALE``).
    """
    moment = now or utcnow()
    worker = Worker(
        name=name[:200],
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        version=__version__[:50],
        kind=kind.value,
        concurrency=concurrency,
        capabilities=[c[:200] for c in capabilities[:MAX_CAPABILITIES]],
        started_at=moment,
        last_heartbeat_at=moment,
        autoscale_min=None if autoscale is None else autoscale.minimum,
        autoscale_max=None if autoscale is None else autoscale.maximum,
        autoscaled_at=None if autoscale is None else moment,
    )
    async with ctx.write() as session:
        repo.add_worker(session, worker=worker)
    return worker.id


async def heartbeat(
    ctx: ServiceContext,
    *,
    worker_id: uuid.UUID,
    report: HeartbeatReport | None = None,
    now: datetime | None = None,
) -> Orders | None:
    """Say that the worker is alive now, with what it does; returns what its row asks of it.

    A worker given a range that is asked to run, and runs, is then re-sized from the queue
    (``_resize``); one that drains keeps its size. ``None``: it is unknown, stopped, or was
    reported offline (it must register again).
    """
    moment = now or utcnow()
    async with ctx.write() as session:
        beat = await repo.beat(session, worker_id=worker_id, now=moment, report=report)
    if beat is None:
        return None
    desired = beat.desired_concurrency
    if (
        beat.autoscale is not None
        and report is not None
        and beat.desired_state == DesiredState.run
        and report.state is EngineState.running
    ):
        desired = await _resize(ctx, worker_id, beat, beat.autoscale, report, moment) or desired
    return Orders(desired_state=DesiredState(beat.desired_state), desired_concurrency=desired)


async def _resize(
    ctx: ServiceContext,
    worker_id: uuid.UUID,
    beat: repo.Beat,
    policy: Autoscale,
    report: HeartbeatReport,
    now: datetime,
) -> int | None:
    """Size the worker from the queue within its range: the new size, or ``None`` (it stays).

    The queue is read in a read transaction of its own (no write lock held while it counts);
    a change is then written to the worker's row (``desired_concurrency``, ``autoscaled_at``,
    ``autoscale_reason``) and recorded as ``worker.autoscaled`` by ``system``, unless its range
    was cleared or changed meanwhile.
    """
    async with ctx.read() as session:
        workers = max(1, await repo.count_alive(session, now=now, taking_work=True))
        # Past the range's maximum for every worker, each one's share fills it: no need to
        # count further (one more says "more than").
        cap = policy.maximum * workers + 1
        queued, oldest = await repo.read_queue(session, now=now, cap=cap)
    waited = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    queue = QueueFigures(queued=queued, oldest_wait_s=waited, workers=workers, capped=queued >= cap)
    since = (
        COOL_DOWN_S if beat.autoscaled_at is None else (now - beat.autoscaled_at).total_seconds()
    )
    change = resize(
        policy,
        concurrency=report.concurrency,
        running=len(report.held),
        queue=queue,
        since_change_s=since,
    )
    if change is None:
        return None
    async with ctx.write() as session:
        recorded = await repo.record_autoscaled(
            session,
            worker_id=worker_id,
            policy=policy,
            concurrency=change.concurrency,
            reason=change.reason,
            now=now,
        )
        if not recorded:
            return None
        await _append_resize(session, worker_id, beat.name, report, change, queue)
    return change.concurrency


async def _append_resize(
    session: AsyncSession,
    worker_id: uuid.UUID,
    name: str,
    report: HeartbeatReport,
    change: Resize,
    queue: QueueFigures,
) -> None:
    """Record ``worker.autoscaled``: the size its range chose, and the figures that moved it."""
    payload = {
        "worker_id": str(worker_id),
        "name": name,
        "concurrency": change.concurrency,
        "previous": report.concurrency,
        "reason": change.reason,
        "queued": queue.queued,
        "queued_capped": queue.capped,
        "oldest_wait_s": round(queue.oldest_wait_s, 1),
        "workers": queue.workers,
    }
    await append(session, [NewEvent(type=ev.WORKER_AUTOSCALED, actor="system", payload=payload)])


async def mark_stopped(
    ctx: ServiceContext, *, worker_id: uuid.UUID, now: datetime | None = None
) -> bool:
    """Record the worker's clean stop; ``False``: it is unknown or stopped already."""
    async with ctx.write() as session:
        return await repo.mark_stopped(session, worker_id=worker_id, now=now or utcnow())


async def count_alive_workers(ctx: ServiceContext, *, now: datetime | None = None) -> int:
    """How many workers are alive at ``now`` (default: now); see ``domain.workers.ALIVE_S``."""
    async with ctx.read() as session:
        return await repo.count_alive(session, now=now or utcnow())


async def read_ready_queue(
    ctx: ServiceContext, *, now: datetime | None = None
) -> tuple[int, float]:
    """Steps ready to be claimed now, and how long the oldest of them has waited (0.0: none).

    What a worker given a range sizes itself from (``_resize``), for an external autoscaler.
    """
    moment = now or utcnow()
    async with ctx.read() as session:
        queued, oldest = await repo.read_queue(session, now=moment)
    return queued, 0.0 if oldest is None else max(0.0, (moment - oldest).total_seconds())


async def list_workers(
    ctx: ServiceContext, *, now: datetime | None = None, limit: int = 200
) -> list[WorkerRead]:
    """Workers seen in the last day (alive ones and those gone), newest start first."""
    moment = now or utcnow()
    since = moment - timedelta(seconds=RECENT_S)
    async with ctx.read() as session:
        rows = await repo.read_workers(session, since=since, limit=limit)
    return [WorkerRead.model_validate(_fields(row, moment)) for row in rows]


async def list_worker_details(
    ctx: ServiceContext, *, now: datetime | None = None, limit: int = 200
) -> list[WorkerDetail]:
    """``list_workers`` with the steps each held at its last heartbeat (the Workers page)."""
    moment = now or utcnow()
    since = moment - timedelta(seconds=RECENT_S)
    async with ctx.read() as session:
        rows = await repo.read_workers(session, since=since, limit=limit)
    return [_detail(row, moment) for row in rows]


async def read_worker(
    ctx: ServiceContext, *, worker_id: uuid.UUID, now: datetime | None = None
) -> WorkerDetail:
    """One worker, with the steps it held at its last heartbeat.

    Raises:
        NotFound: no worker has that id.
    """
    async with ctx.read() as session:
        row = await repo.read_worker(session, worker_id=worker_id)
        if row is None:
            raise _not_found(worker_id)
        return _detail(row, now or utcnow())


async def command_worker(
    ctx: ServiceContext,
    *,
    worker_id: uuid.UUID,
    command: WorkerCommand,
    actor: str,
    now: datetime | None = None,
) -> WorkerDetail:
    """Ask a worker to drain, resume or stop; it obeys at its next heartbeat.

    Appends ``worker.draining``, ``worker.resumed`` or ``worker.stop_requested`` with ``actor``.

    Raises:
        NotFound: no worker has that id.
        Conflict: it is stopped or offline, or the command would change nothing.
    """
    moment = now or utcnow()
    async with ctx.write() as session:
        row = await _locked(session, worker_id)
        previous = DesiredState(row.desired_state)
        target = command_target(
            name=row.name, status=_status(row, moment), desired=previous, command=command
        )
        row.desired_state = target.value
        row.commanded_by, row.commanded_at = actor[:200], moment
        payload = {**_who(row), "desired_state": target.value, "previous": previous.value}
        await append(
            session, [NewEvent(type=_COMMAND_EVENTS[command], actor=actor, payload=payload)]
        )
        return _detail(row, moment)


async def set_concurrency(
    ctx: ServiceContext,
    *,
    worker_id: uuid.UUID,
    concurrency: int,
    actor: str,
    now: datetime | None = None,
) -> WorkerDetail:
    """Ask a worker to run ``concurrency`` steps at once; it obeys at its next heartbeat.

    Steps it already runs beyond a lowered concurrency finish; it claims no more until it is
    below it. Appends ``worker.concurrency_changed`` with ``actor``.

    Raises:
        NotFound: no worker has that id.
        ValidationFailed: ``concurrency`` is not within 1..``domain.workers.MAX_CONCURRENCY``.
        Conflict: it is stopped or offline, already runs that many, or sizes itself (a range
            decides its size: clear it first).
    """
    moment = now or utcnow()
    async with ctx.write() as session:
        row = await _locked(session, worker_id)
        current = row.desired_concurrency or row.concurrency
        check_concurrency(
            name=row.name, status=_status(row, moment), concurrency=concurrency, current=current
        )
        if (policy := _range(row)) is not None:
            raise Conflict(
                f"worker {row.name} sizes itself between {policy.minimum} and {policy.maximum} "
                f"steps at once; stop that first (`missionctl workers autoscale {row.id} --off`)",
                field="concurrency",
            )
        row.desired_concurrency = concurrency
        row.commanded_by, row.commanded_at = actor[:200], moment
        payload = {**_who(row), "concurrency": concurrency, "previous": current}
        event = NewEvent(type=ev.WORKER_CONCURRENCY_CHANGED, actor=actor, payload=payload)
        await append(session, [event])
        return _detail(row, moment)


async def set_autoscale(
    ctx: ServiceContext,
    *,
    worker_id: uuid.UUID,
    minimum: int,
    maximum: int,
    actor: str,
    now: datetime | None = None,
) -> WorkerDetail:
    """Let a worker size itself from the queue, between ``minimum`` and ``maximum`` at once.

    From its next heartbeat, each heartbeat sizes it (``domain.autoscaling``), first bringing it
    within the range. Appends ``worker.autoscale_set`` with ``actor``.

    Raises:
        NotFound: no worker has that id.
        ValidationFailed: a bound is not within 1..``MAX_CONCURRENCY``, or the maximum is
            below the minimum.
        Conflict: it is stopped or offline, or already has this range.
    """
    moment = now or utcnow()
    policy = Autoscale(minimum=minimum, maximum=maximum)
    async with ctx.write() as session:
        row = await _locked(session, worker_id)
        previous = _range(row)
        check_autoscale(name=row.name, status=_status(row, moment), policy=policy, current=previous)
        row.autoscale_min, row.autoscale_max, row.autoscaled_at = minimum, maximum, moment
        row.autoscale_reason = None
        row.commanded_by, row.commanded_at = actor[:200], moment
        payload = {
            **_who(row),
            "minimum": minimum,
            "maximum": maximum,
            "previous": None if previous is None else [previous.minimum, previous.maximum],
        }
        event = NewEvent(type=ev.WORKER_AUTOSCALE_SET, actor=actor, payload=payload)
        await append(session, [event])
        return _detail(row, moment)


async def clear_autoscale(
    ctx: ServiceContext, *, worker_id: uuid.UUID, actor: str, now: datetime | None = None
) -> WorkerDetail:
    """Stop a worker sizing itself: it keeps the size it has until asked for another.

    Appends ``worker.autoscale_cleared`` with ``actor``.

    Raises:
        NotFound: no worker has that id.
        Conflict: it does not size itself.
    """
    moment = now or utcnow()
    async with ctx.write() as session:
        row = await _locked(session, worker_id)
        previous = _range(row)
        if previous is None:
            raise Conflict(
                f"worker {row.name} does not size itself: nothing to stop", field="worker_id"
            )
        row.desired_concurrency = row.desired_concurrency or row.concurrency
        row.autoscale_min = row.autoscale_max = row.autoscaled_at = row.autoscale_reason = None
        row.commanded_by, row.commanded_at = actor[:200], moment
        payload = {
            **_who(row),
            "concurrency": row.desired_concurrency,
            "previous": [previous.minimum, previous.maximum],
        }
        event = NewEvent(type=ev.WORKER_AUTOSCALE_CLEARED, actor=actor, payload=payload)
        await append(session, [event])
        return _detail(row, moment)


def _range(row: Worker) -> Autoscale | None:
    """The range the worker sizes itself within; ``None``: it does not."""
    if row.autoscale_min is None or row.autoscale_max is None:
        return None
    return Autoscale(minimum=row.autoscale_min, maximum=row.autoscale_max)


async def report_offline_workers(
    ctx: ServiceContext, *, now: datetime | None = None, limit: int = 100
) -> list[uuid.UUID]:
    """Append one ``worker.offline`` for each worker silent past ``OFFLINE_S``; their ids.

    Each report is its own transaction: a conditional ``UPDATE`` of ``offline_reported_at``
    (only while null) and the event, so a worker is reported exactly once however many
    processes sweep at the same moment. At most ``limit`` workers per call.
    """
    moment = now or utcnow()
    async with ctx.read() as session:
        candidates = await repo.silent_worker_ids(session, now=moment, limit=limit)
    reported = []
    for worker_id in candidates:
        async with ctx.write() as session:
            row = await repo.claim_offline_report(session, worker_id=worker_id, now=moment)
            if row is None:
                continue  # another process reported it, or it came back
            await append(session, [_offline_event(row)])
        reported.append(worker_id)
        log.warning(
            "worker %s on %s is offline (no heartbeat since %s)",
            row.name,
            row.host,
            row.last_heartbeat_at,
        )
    return reported


def worker_sweeper(
    ctx: ServiceContext, *, every_s: float = SWEEP_EVERY_S
) -> AbstractAsyncContextManager[None]:
    """Report workers gone offline every ``every_s`` while the block runs (the server's lifespan).

    The server sweeps even when it runs no engine, so the last worker's death is noticed too.
    """
    return _sweeping(ctx, every_s)


@asynccontextmanager
async def _sweeping(ctx: ServiceContext, every_s: float) -> AsyncIterator[None]:
    async with repeating(
        lambda: report_offline_workers(ctx), every_s=every_s, what="the offline-worker sweep"
    ):
        yield


def _offline_event(row: Worker) -> NewEvent:
    held = list(row.held_steps or [])
    return NewEvent(
        type=ev.WORKER_OFFLINE,
        actor="system",
        payload={
            **_who(row),
            "kind": row.kind,
            "last_heartbeat_at": row.last_heartbeat_at.isoformat(),
            "held_count": row.held_count,
            "held_steps": held[:OFFLINE_EVENT_STEPS],
        },
    )


async def _locked(session: AsyncSession, worker_id: uuid.UUID) -> Worker:
    row = await repo.read_worker(session, worker_id=worker_id, for_update=True)
    if row is None:
        raise _not_found(worker_id)
    return row


def _not_found(worker_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"no worker {worker_id}: `missionctl workers list` or GET /api/v1/workers lists them",
        field="worker_id",
    )


def _who(row: Worker) -> dict[str, str]:
    return {"worker_id": str(row.id), "name": row.name, "host": row.host}


def _status(row: Worker, now: datetime) -> WorkerStatus:
    return worker_status(
        last_heartbeat_at=row.last_heartbeat_at,
        stopped_at=row.stopped_at,
        offline_reported_at=row.offline_reported_at,
        state=row.state,
        now=now,
    )


def _fields(row: Worker, now: datetime) -> dict[str, object]:
    """The fields of ``WorkerRead`` from a row, with its status at ``now``."""
    return {
        "id": row.id,
        "name": row.name,
        "host": row.host,
        "pid": row.pid,
        "version": row.version,
        "kind": row.kind,
        "status": _status(row, now),
        "busy": row.held_count > 0,
        "capabilities": list(row.capabilities or []),
        "concurrency": row.concurrency,
        "held_count": row.held_count,
        "utilisation_5m": row.utilisation_5m,
        "utilisation_1h": row.utilisation_1h,
        "desired_state": row.desired_state,
        "desired_concurrency": row.desired_concurrency,
        "autoscale_min": row.autoscale_min,
        "autoscale_max": row.autoscale_max,
        "autoscaled_at": row.autoscaled_at,
        "autoscale_reason": row.autoscale_reason,
        "commanded_by": row.commanded_by,
        "commanded_at": row.commanded_at,
        "started_at": row.started_at,
        "last_heartbeat_at": row.last_heartbeat_at,
        "stopped_at": row.stopped_at,
        "offline_reported_at": row.offline_reported_at,
        "alive": is_alive(
            last_heartbeat_at=row.last_heartbeat_at, stopped_at=row.stopped_at, now=now
        ),
    }


def _detail(row: Worker, now: datetime) -> WorkerDetail:
    held = [HeldStepRead.model_validate(step) for step in row.held_steps or []]
    return WorkerDetail.model_validate({**_fields(row, now), "held_steps": held})
