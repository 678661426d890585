"""The registry of engines: their rows, their heartbeats, and who is alive.

Each function takes the session keyword-only and never commits (``services.workers`` owns the
transactions). Times come from the caller, so that one transaction uses one clock.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Worker
from missionctl.domain.workers import alive_since


def add_worker(session: AsyncSession, *, worker: Worker) -> None:
    """Add the row of an engine that starts (flushed with the transaction)."""
    session.add(worker)


async def beat(session: AsyncSession, *, worker_id: uuid.UUID, now: datetime) -> bool:
    """Move the heartbeat of a running worker to ``now``; ``False``: no such running worker."""
    result = await session.execute(
        update(Worker)
        .where(Worker.id == worker_id, Worker.stopped_at.is_(None))
        .values(last_heartbeat_at=now)
        .returning(Worker.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def mark_stopped(session: AsyncSession, *, worker_id: uuid.UUID, now: datetime) -> bool:
    """Record a clean stop at ``now``; ``False``: no such worker, or it stopped already."""
    result = await session.execute(
        update(Worker)
        .where(Worker.id == worker_id, Worker.stopped_at.is_(None))
        .values(stopped_at=now, last_heartbeat_at=now)
        .returning(Worker.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def alive_clause(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a worker alive at ``now`` (recent heartbeat, not stopped)."""
    return (Worker.last_heartbeat_at >= alive_since(now), Worker.stopped_at.is_(None))


async def count_alive(session: AsyncSession, *, now: datetime) -> int:
    """How many workers are alive at ``now``."""
    query = select(func.count()).select_from(Worker).where(*alive_clause(now))
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
