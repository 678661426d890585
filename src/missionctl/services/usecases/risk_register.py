"""The risk register of a mission: list, add and edit its risks, and its heat map (ADR 0051).

Each change appends one event with the actor and the changed fields' old and new values:
``risk.added`` for a new risk, ``risk.changed`` for an edit. A risk's mitigation tasks are keys
of the mission's newest plan's tasks, checked when they are set.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Risk
from missionctl.domain.events import RISK_ADDED, RISK_CHANGED
from missionctl.domain.register import (
    LIKELIHOODS,
    LIVE_RISK_STATUSES,
    SEVERITIES,
    RiskStatus,
    heat_map,
    unknown_task_problems,
)
from missionctl.errors import NotFound, StateRefused
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import register as register_repo
from missionctl.schemas.register import (
    HeatMapCell,
    RiskCreate,
    RiskEdit,
    RiskRead,
    RiskRegister,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import register_common as shared
from missionctl.services.usecases.register_common import check_version, cleaned, lock_mission

FIELDS = (
    "title",
    "description",
    "owner",
    "status",
    "severity",
    "likelihood",
    "mitigation",
    "mitigation_tasks",
)


async def read_register(ctx: ServiceContext, *, mission_id: uuid.UUID) -> RiskRegister:
    """The mission's risks (its newest plan's and those people added) and their heat map.

    The heat map counts the risks still ``open`` or ``mitigating`` per severity (rows, worst
    first) and likelihood (columns, least first).

    Raises:
        NotFound: no such mission.
    """
    async with ctx.read() as session:
        rows, titles = await shared.read_items(session, model=Risk, mission_id=mission_id)
    risks = [to_read(row, titles) for row in rows]
    grid = heat_map([(r.severity, r.likelihood) for r in risks if r.status in LIVE_RISK_STATUSES])
    severities = list(reversed(SEVERITIES))
    return RiskRegister(
        risks=risks,
        severities=severities,
        likelihoods=list(LIKELIHOODS),
        heat_map=[
            [
                HeatMapCell(severity=severity, likelihood=likelihood, count=count)
                for likelihood, count in zip(LIKELIHOODS, row, strict=True)
            ]
            for severity, row in zip(severities, grid, strict=True)
        ],
    )


def to_read(row: Risk, titles: Mapping[uuid.UUID, str] | None = None) -> RiskRead:
    """A risk row as clients read it; ``titles`` names the missions risks were carried from."""
    return RiskRead(
        **shared.read_fields(row, titles),
        title=row.title,
        description=row.description,
        owner=row.owner,
        status=RiskStatus(row.status),
        severity=row.severity,
        likelihood=row.likelihood,
        mitigation=row.mitigation,
        mitigation_tasks=list(row.mitigation_tasks),
    )


async def add_risk(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str, data: RiskCreate
) -> RiskRead:
    """Add a risk to the mission's register; ``risk.added``. Text is redacted first.

    Raises:
        NotFound: no such mission.
        ValidationFailed: a mitigation task is not a task of the newest plan
            (``mitigation_tasks.<i>``, with a close match when there is one).
    """
    async with ctx.write() as session:
        await lock_mission(session, mission_id)
        await _check_tasks(session, mission_id, data.mitigation_tasks)
        values = cleaned(data.model_dump(mode="json"))
        row = Risk(mission_id=mission_id, version=1, **values)
        session.add(row)
        await session.flush()
        await append(session, [_event(RISK_ADDED, row, actor, shared.added_changes(row, FIELDS))])
        return to_read(row)


async def edit_risk(
    ctx: ServiceContext, *, mission_id: uuid.UUID, risk_id: uuid.UUID, actor: str, edit: RiskEdit
) -> RiskRead:
    """Change a risk; ``risk.changed`` names each changed field's old and new value.

    An edit that changes nothing records nothing and keeps the version.

    Raises:
        NotFound: no such mission, or no such risk in it.
        Conflict: the edit was based on an older version (``field="version"``); nothing changes.
        ValidationFailed: a mitigation task is not a task of the newest plan.
    """
    async with ctx.write() as session:
        await lock_mission(session, mission_id)
        row = await register_repo.read_item(session, model=Risk, item_id=risk_id)
        if row is None or row.mission_id != mission_id:
            raise NotFound(f"mission {mission_id} has no risk {risk_id}", field="risk_id")
        check_version("risk", row.version, edit.version)
        wanted = edit.model_dump(mode="json", include=set(edit.changed()))
        if "mitigation_tasks" in wanted:
            await _check_tasks(session, mission_id, wanted["mitigation_tasks"])
        changed = shared.apply_edit(row, wanted, FIELDS)
        if not changed:
            return to_read(row)
        await append(session, [_event(RISK_CHANGED, row, actor, changed)])
        await session.flush()
        return to_read(row)


async def _check_tasks(session: AsyncSession, mission_id: uuid.UUID, keys: list[str]) -> None:
    """Nothing, when every key names a task of the mission's newest plan.

    Raises:
        ValidationFailed: one problem per unknown key (``mitigation_tasks.<i>``).
    """
    if not keys:
        return
    plan = await register_repo.newest_plan(session, mission_id=mission_id)
    known = [str(task.get("key")) for task in plan.tasks] if plan is not None else []
    problems = unknown_task_problems("mitigation_tasks", keys, known)
    if problems:
        raise StateRefused(problems)


def _event(type_: str, row: Risk, actor: str, changed: dict[str, Any]) -> NewEvent:
    """The event of one risk's change: which risk, its new version, what changed."""
    return shared.item_event(type_, row, actor, {"risk_id": str(row.id)}, changed)
