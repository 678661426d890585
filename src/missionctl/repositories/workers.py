"""The registry of engines: their rows, their heartbeats, their commands, and who is alive.

Each function takes the session keyword-only and never commits (``services.usecases.workers`` owns
the transactions). Times come from the caller, so that one transaction uses one clock.
"""

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import StepRun, Worker
from missionctl.domain.autoscaling import Autoscale
from missionctl.domain.states import StepRunStatus
from missionctl.domain.workers import (
    MAX_CONCURRENCY,
    HeartbeatReport,
    alive_since,
    offline_before,
)


def add_worker(session: AsyncSession, *, worker: Worker) -> None:
    """Add the row of an engine that starts (flushed with the transaction)."""
    session.add(worker)


def _running(worker_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    """The row of ``worker_id`` while it may still heartbeat: not stopped, not reported offline."""
    return (
        Worker.id == worker_id,
        Worker.stopped_at.is_(None),
        Worker.offline_reported_at.is_(None),
    )


@dataclass(frozen=True, slots=True)
class Beat:
    """What a worker's row asks of it, read back by its heartbeat.

    Attributes:
        name: the worker's name (``host:pid:tag``), for what its heartbeat records.
        desired_state: run, drain or stop.
        desired_concurrency: the concurrency asked for; ``None``: its own.
        autoscale: the range it sizes itself within; ``None``: it does not.
        autoscaled_at: when its size last changed by the range (or the range was set).
    """

    name: str
    desired_state: str
    desired_concurrency: int | None
    autoscale: Autoscale | None
    autoscaled_at: datetime | None


async def beat(
    session: AsyncSession,
    *,
    worker_id: uuid.UUID,
    now: datetime,
    report: HeartbeatReport | None = None,
) -> Beat | None:
    """Move the heartbeat of a running worker to ``now`` and write ``report`` with it.

    Returns the row's orders as they are after the write; ``None``: no such worker, or it
    stopped or was reported offline (it must register again: its old row is history).
    """
    values: dict[str, Any] = {"last_heartbeat_at": now}
    if report is not None:
        values.update(
            state=report.state.value,
            concurrency=report.concurrency,
            # At most as many as an engine may run: the count stays exact beyond.
            held_steps=[asdict(step) for step in report.held[:MAX_CONCURRENCY]],
            held_count=len(report.held),
            utilisation_5m=report.utilisation_5m,
            utilisation_1h=report.utilisation_1h,
        )
    result = await session.execute(
        update(Worker)
        .where(*_running(worker_id))
        .values(**values)
        .returning(
            Worker.name,
            Worker.desired_state,
            Worker.desired_concurrency,
            Worker.autoscale_min,
            Worker.autoscale_max,
            Worker.autoscaled_at,
        )
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        return None
    name, state, concurrency, low, high, autoscaled_at = row
    autoscale = None if low is None or high is None else Autoscale(low, high)
    return Beat(name, state, concurrency, autoscale, autoscaled_at)


async def read_queue(
    session: AsyncSession, *, now: datetime, cap: int | None = None
) -> tuple[int, datetime | None]:
    """How many steps are ready to be claimed at ``now``, and when the oldest was queued.

    Ready: queued, held back by nothing (no spending cap, no agent that may not run), due
    (no retry delay left). The time is ``None`` with none. ``cap``: count no further than
    that many (a worker's decision needs no more; the count then stops early instead of
    reading a deep queue whole). Both reads walk the ``(status, queued_at)`` index, oldest
    first.
    """
    ready = (
        StepRun.status == StepRunStatus.queued,
        StepRun.hold_reason.is_(None),
        or_(StepRun.not_before.is_(None), StepRun.not_before <= now),
    )
    counted = select(StepRun.id).where(*ready)
    if cap is not None:
        counted = counted.limit(cap)
    count = await session.scalar(select(func.count()).select_from(counted.subquery()))
    oldest = await session.scalar(
        select(StepRun.queued_at).where(*ready).order_by(StepRun.queued_at).limit(1)
    )
    return int(count or 0), oldest


async def record_autoscaled(
    session: AsyncSession,
    *,
    worker_id: uuid.UUID,
    policy: Autoscale,
    concurrency: int,
    reason: str,
    now: datetime,
) -> bool:
    """Ask the worker for ``concurrency`` steps at once, chosen by its range ``policy`` at ``now``.

    ``False`` (nothing written): it stopped, went offline, or its range is no longer
    ``policy`` (cleared or changed since the figures were read).
    """
    result = await session.execute(
        update(Worker)
        .where(
            *_running(worker_id),
            Worker.autoscale_min == policy.minimum,
            Worker.autoscale_max == policy.maximum,
        )
        .values(desired_concurrency=concurrency, autoscaled_at=now, autoscale_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_stopped(session: AsyncSession, *, worker_id: uuid.UUID, now: datetime) -> bool:
    """Record a clean stop at ``now``; ``False``: no such worker, or it stopped already.

    The steps it held are cleared: a clean stop has cancelled them (their leases expire).
    """
    result = await session.execute(
        update(Worker)
        .where(Worker.id == worker_id, Worker.stopped_at.is_(None))
        .values(stopped_at=now, last_heartbeat_at=now, held_steps=[], held_count=0)
        .returning(Worker.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def alive_clause(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a worker alive at ``now`` (recent heartbeat, not stopped)."""
    return (Worker.last_heartbeat_at >= alive_since(now), Worker.stopped_at.is_(None))


async def count_alive(session: AsyncSession, *, now: datetime, taking_work: bool = False) -> int:
    """How many workers are alive at ``now``.

    ``taking_work``: only those that claim work (asked to run, and running: not draining).
    """
    query = select(func.count()).select_from(Worker).where(*alive_clause(now))
    if taking_work:
        query = query.where(Worker.desired_state == "run", Worker.state == "running")
    return int(await session.scalar(query) or 0)


async def read_workers(session: AsyncSession, *, since: datetime, limit: int) -> Sequence[Worker]:
    """Workers heartbeating at or after ``since`` (alive or recently gone), newest start first."""
    query = (
        select(Worker)
        .where(Worker.last_heartbeat_at >= since)
        .order_by(Worker.started_at.desc(), Worker.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def read_worker(
    session: AsyncSession, *, worker_id: uuid.UUID, for_update: bool = False
) -> Worker | None:
    """The worker with ``worker_id``, or ``None``; ``for_update`` locks its row."""
    return await session.get(Worker, worker_id, with_for_update=for_update, populate_existing=True)


async def silent_worker_ids(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[uuid.UUID]:
    """Workers silent past ``domain.workers.OFFLINE_S`` at ``now`` and not yet reported.

    The index on ``last_heartbeat_at`` keeps this cheap: it reads only the silent rows.
    """
    query = (
        select(Worker.id)
        .where(
            Worker.last_heartbeat_at < offline_before(now),
            Worker.stopped_at.is_(None),
            Worker.offline_reported_at.is_(None),
        )
        .order_by(Worker.last_heartbeat_at)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def claim_offline_report(
    session: AsyncSession, *, worker_id: uuid.UUID, now: datetime
) -> Worker | None:
    """Mark a silent worker reported offline at ``now``; its row, or ``None`` if not ours to report.

    The ``UPDATE`` applies only while ``offline_reported_at`` is null and the worker is still
    silent past the threshold, so of several processes that notice the same worker at once one
    gets the row (the others wait for its lock, then find it set) and appends the event in the
    same transaction.
    """
    result = await session.execute(
        update(Worker)
        .where(
            Worker.id == worker_id,
            Worker.offline_reported_at.is_(None),
            Worker.stopped_at.is_(None),
            Worker.last_heartbeat_at < offline_before(now),
        )
        .values(offline_reported_at=now)
        .returning(Worker.id)
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        return None
    return await read_worker(session, worker_id=worker_id)
