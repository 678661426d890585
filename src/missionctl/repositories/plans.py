"""Plan queries: versions of a mission's plan and the items stored with each version."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Decision, NextStep, Plan, Requirement, Risk
from missionctl.db.types import utcnow
from missionctl.schemas.plans import PlanDraft

_Item = TypeVar("_Item", Requirement, Risk, Decision, NextStep)


class PlanItems(NamedTuple):
    """What a plan version holds besides its tasks, each kind in the order it was stored."""

    requirements: Sequence[Requirement]
    risks: Sequence[Risk]
    decisions: Sequence[Decision]
    next_steps: Sequence[NextStep]


async def read_plan_by_id(session: AsyncSession, *, plan_id: uuid.UUID) -> Plan | None:
    """The plan version with ``plan_id``, or ``None``."""
    return await session.get(Plan, plan_id)


def read_plan(
    session: Session, *, mission_id: uuid.UUID, version: int | None = None
) -> Plan | None:
    """Version ``version`` of the mission's plan (``None``: the newest), or ``None``.

    Blocking, like the other reads of a whole plan: starting a mission's run reads its plan in
    its blocking write transaction; async callers use ``AsyncSession.run_sync``.
    """
    query = select(Plan).where(Plan.mission_id == mission_id)
    query = (
        query.where(Plan.version == version)
        if version is not None
        else query.order_by(Plan.version.desc()).limit(1)
    )
    return session.scalar(query)


async def has_plan(session: AsyncSession, *, mission_id: uuid.UUID) -> bool:
    """Whether the mission has at least one plan version."""
    found = await session.scalar(select(Plan.id).where(Plan.mission_id == mission_id).limit(1))
    return found is not None


async def read_newest_plans(
    session: AsyncSession, *, mission_id: uuid.UUID, limit: int
) -> Sequence[Plan]:
    """The mission's newest ``limit`` plan versions, newest first."""
    query = (
        select(Plan).where(Plan.mission_id == mission_id).order_by(Plan.version.desc()).limit(limit)
    )
    return (await session.scalars(query)).all()


async def next_version(session: AsyncSession, *, mission_id: uuid.UUID) -> int:
    """The version number the mission's next plan takes (1 for its first)."""
    latest = await session.scalar(
        select(func.max(Plan.version)).where(Plan.mission_id == mission_id)
    )
    return (latest or 0) + 1


def read_plan_rows(session: Session, *, model: type[_Item], plan_id: uuid.UUID) -> Sequence[_Item]:
    """One kind of item (requirements, risks, decisions or next steps) of a plan, in order."""
    query = select(model).where(model.plan_id == plan_id).order_by(model.id)
    return session.scalars(query).all()


def read_plan_items(
    session: Session, *, plan_id: uuid.UUID, requirements: bool = True
) -> PlanItems:
    """The requirements (unless not asked for), risks, decisions and next steps of a plan."""
    return PlanItems(
        requirements=read_plan_rows(session, model=Requirement, plan_id=plan_id)
        if requirements
        else (),
        risks=read_plan_rows(session, model=Risk, plan_id=plan_id),
        decisions=read_plan_rows(session, model=Decision, plan_id=plan_id),
        next_steps=read_plan_rows(session, model=NextStep, plan_id=plan_id),
    )


async def add_plan(
    session: AsyncSession,
    *,
    mission_id: uuid.UUID,
    source: str,
    draft: PlanDraft,
    validation: dict[str, Any],
) -> Plan:
    """Store ``draft`` as the mission's next plan version, with its items; flushed.

    The plan's requirements, risks, decisions and next steps are stored as rows of their
    own (in the draft's order), each tied to the mission and the new version.
    """
    plan = Plan(
        mission_id=mission_id,
        version=await next_version(session, mission_id=mission_id),
        summary=draft.summary,
        source=source,
        phases=[p.model_dump(mode="json") for p in draft.phases],
        tasks=[t.model_dump(mode="json") for t in draft.tasks],
        validation=validation,
    )
    session.add(plan)
    await session.flush()
    first = await next_decision_number(session, mission_id=mission_id)
    session.add_all(_item_rows(plan, draft, first_number=first))
    return plan


async def next_decision_number(session: AsyncSession, *, mission_id: uuid.UUID) -> int:
    """The number the mission's next decision takes in its log (1 for its first).

    Numbers are never reused. Callers hold the mission's row lock, so two writers cannot take
    one number (the unique constraint on ``(mission_id, number)`` would refuse the second).
    """
    latest = await session.scalar(
        select(func.max(Decision.number)).where(Decision.mission_id == mission_id)
    )
    return (latest or 0) + 1


def _item_rows(
    plan: Plan, draft: PlanDraft, *, first_number: int
) -> list[Requirement | Risk | Decision | NextStep]:
    """The rows of a draft's items; the planner's decisions are accepted, dated today."""
    ids = {"mission_id": plan.mission_id, "plan_id": plan.id}
    rows: list[Requirement | Risk | Decision | NextStep] = [
        Requirement(**ids, key=r.key, text=r.text, priority=r.priority, kind=r.kind)
        for r in draft.requirements
    ]
    rows += [
        Risk(
            **ids,
            title=r.title,
            description=r.description,
            severity=r.severity,
            likelihood=r.likelihood,
            mitigation=r.mitigation,
            mitigation_tasks=list(r.mitigation_tasks),
            owner=r.owner,
            from_mission_id=r.from_mission,
        )
        for r in draft.risks
    ]
    rows += [
        Decision(
            **ids,
            number=first_number + position,
            status="accepted",
            decided_on=today(),
            title=d.title,
            choice=d.choice,
            reasons=list(d.reasons),
            trade_offs=list(d.trade_offs),
            alternatives=list(d.alternatives),
            from_mission_id=d.from_mission,
        )
        for position, d in enumerate(draft.decisions)
    ]
    rows += [NextStep(**ids, text=n.text, priority=n.priority) for n in draft.next_steps]
    return rows


def today() -> date:
    """Today's date in UTC: the date a decision is stored with unless one is given."""
    return utcnow().date()
