"""Mission queries."""

import uuid
from collections.abc import Collection

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Mission
from missionctl.repositories.search import search_pattern


async def read_mission(
    session: AsyncSession, *, mission_id: uuid.UUID, for_update: bool = False
) -> Mission | None:
    """The mission with ``mission_id``, or ``None``; ``for_update`` locks its row."""
    return await session.get(Mission, mission_id, with_for_update=for_update)


async def read_titles(
    session: AsyncSession, *, mission_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The titles of ``mission_ids``, by id (unknown ids left out)."""
    if not mission_ids:
        return {}
    query = select(Mission.id, Mission.title).where(Mission.id.in_(set(mission_ids)))
    return {row[0]: row[1] for row in await session.execute(query)}


def _filtered(query: Select[Mission], *, status: str | None, q: str | None) -> Select[Mission]:
    if status is not None:
        query = query.where(Mission.status == status)
    if q:
        pattern = search_pattern(q)
        query = query.where(
            or_(Mission.title.ilike(pattern, escape="\\"), Mission.goal.ilike(pattern, escape="\\"))
        )
    return query


async def read_missions(
    session: AsyncSession,
    *,
    limit: int,
    before_id: uuid.UUID | None = None,
    status: str | None = None,
    q: str | None = None,
) -> list[Mission]:
    """Up to ``limit`` missions, newest first, older than ``before_id`` when given (keyset paging).

    Ids are UUIDv7, so id order is creation order and the page boundary is stable under inserts.
    """
    query = _filtered(select(Mission), status=status, q=q)
    if before_id is not None:
        query = query.where(Mission.id < before_id)
    query = query.order_by(Mission.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def count_missions(
    session: AsyncSession, *, status: str | None = None, q: str | None = None
) -> int:
    """How many missions match the filters."""
    query = _filtered(select(Mission), status=status, q=q)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return int(total or 0)
