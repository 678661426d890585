"""Reads of the event log for pages and streams (appending is ``missionctl.eventlog``'s).

Every function filters by mission and run only when given one (``None``: no filter), and
returns ORM rows in the order it names.
"""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Event, EventLogHead

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _scoped(query: _Query, *, mission_id: uuid.UUID | None, run_id: uuid.UUID | None) -> _Query:
    if mission_id is not None:
        query = query.where(Event.mission_id == mission_id)
    if run_id is not None:
        query = query.where(Event.run_id == run_id)
    return query


async def read_head_seq(session: AsyncSession) -> int:
    """The ``seq`` of the newest event committed (0 for an empty log)."""
    head = await session.scalar(select(EventLogHead.last_seq).where(EventLogHead.id == 1))
    return int(head or 0)


async def read_events_after(
    session: AsyncSession,
    *,
    after_seq: int,
    limit: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> Sequence[Event]:
    """Up to ``limit`` events with ``seq > after_seq``, oldest first."""
    query = select(Event).where(Event.seq > after_seq).order_by(Event.seq).limit(limit)
    return (await session.scalars(_scoped(query, mission_id=mission_id, run_id=run_id))).all()


async def read_events_before(
    session: AsyncSession, *, mission_id: uuid.UUID, before_seq: int, limit: int
) -> Sequence[Event]:
    """Up to ``limit`` events of the mission with ``seq < before_seq``, newest first."""
    query = (
        select(Event)
        .where(Event.mission_id == mission_id, Event.seq < before_seq)
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_events(
    session: AsyncSession,
    *,
    up_to: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> int:
    """How many events have ``seq <= up_to``."""
    query = select(func.count()).select_from(Event).where(Event.seq <= up_to)
    return int(await session.scalar(_scoped(query, mission_id=mission_id, run_id=run_id)) or 0)


async def read_last_seq(session: AsyncSession, *, mission_id: uuid.UUID | None = None) -> int:
    """The ``seq`` of the mission's newest event (0 when it has none)."""
    query = _scoped(select(func.max(Event.seq)), mission_id=mission_id, run_id=None)
    return int(await session.scalar(query) or 0)


async def read_newest_event(
    session: AsyncSession,
    *,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    types: Sequence[str] = (),
) -> Event | None:
    """The newest event (of one of ``types``, when given), or ``None``."""
    query = _scoped(select(Event), mission_id=mission_id, run_id=run_id)
    if types:
        query = query.where(Event.type.in_(types))
    return await session.scalar(query.order_by(Event.seq.desc()).limit(1))


def _step_type(run_id: uuid.UUID, step_id: str, type_: str) -> ColumnElement[bool]:
    return (Event.run_id == run_id) & (Event.step_id == step_id) & (Event.type == type_)


async def read_step_events(
    session: AsyncSession, *, run_id: uuid.UUID, step_id: str, type_: str, limit: int
) -> tuple[list[Event], int]:
    """The newest ``limit`` events of one type of a step, oldest first, and how many there are."""
    where = _step_type(run_id, step_id, type_)
    total = int(await session.scalar(select(func.count()).select_from(Event).where(where)) or 0)
    rows = await session.scalars(select(Event).where(where).order_by(Event.seq.desc()).limit(limit))
    return list(reversed(rows.all())), total


async def read_audit_page(
    session: AsyncSession, *, mission_id: uuid.UUID, up_to: int, limit: int
) -> tuple[list[Event], int]:
    """The mission's newest ``limit`` events up to ``seq`` ``up_to``, newest first, and their count.

    A ``limit`` of 0 or less reads only the count.
    """
    total = await count_events(session, up_to=up_to, mission_id=mission_id)
    if limit <= 0:
        return [], total
    where = (Event.mission_id == mission_id) & (Event.seq <= up_to)
    rows = await session.scalars(select(Event).where(where).order_by(Event.seq.desc()).limit(limit))
    return list(rows.all()), total


async def read_run_events(session: AsyncSession, *, run_id: uuid.UUID) -> Sequence[Event]:
    """Every event of the run, oldest first (what a replay folds)."""
    query = select(Event).where(Event.run_id == run_id).order_by(Event.seq)
    return (await session.scalars(query)).all()
