"""Decision log and risk register queries: a mission's current items, one item, their links.

A mission's log and register hold the items of its newest plan version and those people
added (``plan_id`` is null); an older version's items stay with that version (ADR 0051).
"""

import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Decision, Event, Plan, Risk

_Item = TypeVar("_Item", Decision, Risk)


async def newest_plan(session: AsyncSession, *, mission_id: uuid.UUID) -> Plan | None:
    """The mission's newest plan version, or ``None`` before it is planned."""
    query = select(Plan).where(Plan.mission_id == mission_id).order_by(Plan.version.desc()).limit(1)
    return await session.scalar(query)


async def read_current(
    session: AsyncSession, *, model: type[_Item], mission_id: uuid.UUID
) -> Sequence[_Item]:
    """The mission's decisions (or risks) of its newest plan and those people added, in order."""
    plan = await newest_plan(session, mission_id=mission_id)
    query = select(model).where(model.mission_id == mission_id)
    added = model.plan_id.is_(None)
    query = query.where(added if plan is None else or_(added, model.plan_id == plan.id))
    return (await session.scalars(query.order_by(model.id))).all()


async def read_plan_risks(
    session: AsyncSession, *, mission_id: uuid.UUID, plan_id: uuid.UUID
) -> Sequence[Risk]:
    """The risks of plan ``plan_id``, and those people added when it is the newest version."""
    newest = await newest_plan(session, mission_id=mission_id)
    of_plan = Risk.plan_id == plan_id
    if newest is not None and newest.id == plan_id:
        of_plan = or_(of_plan, Risk.plan_id.is_(None))
    query = select(Risk).where(Risk.mission_id == mission_id, of_plan)
    return (await session.scalars(query.order_by(Risk.id))).all()


async def read_item(
    session: AsyncSession, *, model: type[_Item], item_id: uuid.UUID, for_update: bool = False
) -> _Item | None:
    """The decision (or risk) with ``item_id``, or ``None``; ``for_update`` locks its row."""
    return await session.get(model, item_id, with_for_update=for_update, populate_existing=True)


async def read_links(
    session: AsyncSession, *, mission_id: uuid.UUID
) -> dict[uuid.UUID, uuid.UUID | None]:
    """Every decision of the mission (any plan version) → the decision it supersedes."""
    query = select(Decision.id, Decision.supersedes_id).where(Decision.mission_id == mission_id)
    return {row.id: row.supersedes_id for row in await session.execute(query)}


async def read_item_events(
    session: AsyncSession, *, mission_id: uuid.UUID, types: Sequence[str], limit: int
) -> Sequence[Event]:
    """The mission's newest ``limit`` events of ``types``, oldest first."""
    query = (
        select(Event)
        .where(Event.mission_id == mission_id, Event.type.in_(types))
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return list(reversed((await session.scalars(query)).all()))
