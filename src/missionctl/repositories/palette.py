r"""The command palette's candidate queries: bounded, newest first, prefiltered by ``LIKE``.

Each takes the query's ``LIKE`` patterns (``domain.palette.like_patterns``: one per word, its
letters in order, wildcards escaped with ``\``) and returns at most ``limit`` rows whose
searched columns match every pattern, case-insensitively; no patterns: the newest rows. The
service scores what comes back. The order is an indexed one (the primary key, UUIDv7 and so
creation order, or an indexed time), so a query that matches many rows still reads at most
``limit`` of them (ADR 0062).
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from missionctl.db.models import (
    Agent,
    Approval,
    Mission,
    Run,
    Schedule,
    StepRun,
    Worker,
    Workflow,
    WorkflowTemplate,
)
from missionctl.domain.palette import LIKE_ESCAPE


class MissionMatch(NamedTuple):
    """A mission the palette may offer."""

    id: uuid.UUID
    title: str
    status: str


class RunMatch(NamedTuple):
    """A run, with what it is called: its mission's title (if any) and its workflow."""

    id: uuid.UUID
    status: str
    mission_title: str | None
    workflow: str
    version: int


class WorkerMatch(NamedTuple):
    """An engine seen since the cutoff the caller gave."""

    id: uuid.UUID
    name: str
    host: str
    last_heartbeat_at: datetime
    stopped_at: datetime | None
    offline_reported_at: datetime | None
    state: str
    desired_state: str
    concurrency: int
    desired_concurrency: int | None


class ScheduleMatch(NamedTuple):
    """A schedule that is not deleted."""

    id: uuid.UUID
    name: str
    cron: str
    timezone: str
    paused: bool
    next_fire_at: datetime


class ApprovalMatch(NamedTuple):
    """A step waiting for a decision, with what its run is called."""

    id: uuid.UUID
    step_id: str
    run_id: uuid.UUID
    mission_title: str | None
    workflow: str


def _every_word(
    columns: Sequence[InstrumentedAttribute[str]], patterns: Sequence[str]
) -> ColumnElement[bool]:
    """Every pattern matches at least one of ``columns``; no patterns: true."""
    if not patterns:
        return true()
    return and_(
        *(or_(*(column.ilike(p, escape=LIKE_ESCAPE) for column in columns)) for p in patterns)
    )


async def find_missions(
    session: AsyncSession, *, patterns: Sequence[str], limit: int
) -> list[MissionMatch]:
    """Up to ``limit`` missions whose title matches, newest first."""
    query = (
        select(Mission.id, Mission.title, Mission.status)
        .where(_every_word([Mission.title], patterns))
        .order_by(Mission.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [MissionMatch(row.id, row.title, str(row.status)) for row in rows]


async def find_runs(
    session: AsyncSession,
    *,
    patterns: Sequence[str],
    limit: int,
    statuses: Collection[str] | None = None,
) -> list[RunMatch]:
    """Up to ``limit`` runs whose mission's title or workflow's name matches, newest first.

    ``statuses``: only runs in one of them (``None``: any).
    """
    query = (
        select(Run.id, Run.status, Mission.title, Workflow.name, Workflow.version)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(Mission, Mission.id == Run.mission_id)
        .where(_every_word([Mission.title, Workflow.name], patterns))
    )
    if statuses is not None:
        query = query.where(Run.status.in_(sorted(statuses)))
    rows = (await session.execute(query.order_by(Run.id.desc()).limit(limit))).all()
    return [RunMatch(row[0], str(row[1]), row[2], row[3], row[4]) for row in rows]


async def find_workflows(
    session: AsyncSession, *, patterns: Sequence[str], limit: int
) -> list[Workflow]:
    """The newest version of up to ``limit`` saved workflows whose name matches, by name.

    Workflows compiled from a mission's plan are left out, as on the workflows page: the
    palette finds them through their mission.
    """
    newest = (
        select(Workflow.name, func.max(Workflow.version).label("version"))
        .where(Workflow.plan_id.is_(None), _every_word([Workflow.name], patterns))
        .group_by(Workflow.name)
        .order_by(Workflow.name)
        .limit(limit)
        .subquery()
    )
    query = (
        select(Workflow)
        .join(newest, (Workflow.name == newest.c.name) & (Workflow.version == newest.c.version))
        .order_by(Workflow.name)
    )
    return list((await session.scalars(query)).all())


async def find_agents(session: AsyncSession, *, patterns: Sequence[str], limit: int) -> list[Agent]:
    """Up to ``limit`` registered agents whose name matches, by name."""
    query = (
        select(Agent).where(_every_word([Agent.name], patterns)).order_by(Agent.name).limit(limit)
    )
    return list((await session.scalars(query)).all())


async def find_workers(
    session: AsyncSession, *, patterns: Sequence[str], since: datetime, limit: int
) -> list[WorkerMatch]:
    """Up to ``limit`` engines heard from since ``since`` whose name or host matches."""
    query = (
        select(
            Worker.id,
            Worker.name,
            Worker.host,
            Worker.last_heartbeat_at,
            Worker.stopped_at,
            Worker.offline_reported_at,
            Worker.state,
            Worker.desired_state,
            Worker.concurrency,
            Worker.desired_concurrency,
        )
        .where(Worker.last_heartbeat_at >= since, _every_word([Worker.name, Worker.host], patterns))
        .order_by(Worker.last_heartbeat_at.desc())
        .limit(limit)
    )
    return [WorkerMatch._make(row) for row in (await session.execute(query)).all()]


async def find_schedules(
    session: AsyncSession, *, patterns: Sequence[str], limit: int
) -> list[ScheduleMatch]:
    """Up to ``limit`` live schedules whose name or expression matches, next to fire first."""
    query = (
        select(
            Schedule.id,
            Schedule.name,
            Schedule.cron,
            Schedule.timezone,
            Schedule.paused,
            Schedule.next_fire_at,
        )
        .where(Schedule.deleted_at.is_(None), _every_word([Schedule.name, Schedule.cron], patterns))
        .order_by(Schedule.next_fire_at)
        .limit(limit)
    )
    return [ScheduleMatch(*row) for row in (await session.execute(query)).all()]


async def find_pending_approvals(
    session: AsyncSession, *, patterns: Sequence[str], limit: int
) -> list[ApprovalMatch]:
    """Up to ``limit`` steps waiting for a decision, oldest request first (the queue's order).

    A word may match the step, the run's mission title or its workflow's name. Pending means
    what the approvals page means: undecided, and the step still waits at that attempt.
    """
    query = (
        select(Approval.id, Approval.step_id, Run.id, Mission.title, Workflow.name)
        .join(StepRun, StepRun.id == Approval.step_run_id)
        .join(Run, Run.id == Approval.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(Mission, Mission.id == Run.mission_id)
        .where(
            Approval.decision.is_(None),
            StepRun.status == "awaiting_approval",
            StepRun.attempt == Approval.attempt,
            _every_word([Approval.step_id, Mission.title, Workflow.name], patterns),
        )
        .order_by(Approval.requested_at, Approval.id)
        .limit(limit)
    )
    return [ApprovalMatch(*row) for row in (await session.execute(query)).all()]


class TemplateMatch(NamedTuple):
    """A saved workflow template (ADR 0065)."""

    name: str
    title: str
    category: str


async def find_templates(
    session: AsyncSession, *, patterns: Sequence[str], limit: int
) -> list[TemplateMatch]:
    """Up to ``limit`` saved templates whose name or title matches, newest first."""
    query = (
        select(WorkflowTemplate.name, WorkflowTemplate.title, WorkflowTemplate.category)
        .where(_every_word([WorkflowTemplate.name, WorkflowTemplate.title], patterns))
        .order_by(WorkflowTemplate.id.desc())
        .limit(limit)
    )
    return [TemplateMatch(*row) for row in (await session.execute(query)).all()]
