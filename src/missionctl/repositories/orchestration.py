"""The facts of orchestration's figures: runs that ended with their fix-ups, missions' starts.

Each function takes the session keyword-only and reads in one statement (ADR 0116). Times are
UTC; a window is ``[since, until)``.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from missionctl.db.models import Event, Mission, Run, StepRun, Workflow
from missionctl.domain import events as ev
from missionctl.domain.states import RunStatus

ENDED: tuple[RunStatus, ...] = (
    RunStatus.completed,
    RunStatus.failed,
    RunStatus.canceled,
    RunStatus.aborted,
)
MERGE_AGENT = "git:merge"


class EndedRow(Protocol):
    """A row of :func:`read_ended_runs`."""

    ended_at: datetime
    workflow: str
    status: RunStatus
    retried: bool
    rerun: bool
    merge_rejected: bool


class StartRow(Protocol):
    """A row of :func:`read_mission_starts`."""

    created_at: datetime
    first_started_at: datetime | None


async def read_ended_runs(
    session: AsyncSession, *, since: datetime, until: datetime, workflow: str | None
) -> Sequence[EndedRow]:
    """Runs that ended in the window (of workflow ``workflow`` only, when given).

    Each row: ``ended_at``, ``workflow`` (its name), ``status``, and whether someone retried a
    step of it (``retried``), reran it or started it as a rerun (``rerun``), or rejected a
    merge in it (``merge_rejected``).
    """
    later = aliased(Run)
    retried = exists().where(Event.run_id == Run.id, Event.type == ev.STEP_RETRIED)
    rerun = or_(Run.rerun_of.is_not(None), exists().where(later.rerun_of == Run.id))
    merge = (
        select(literal(1))
        .select_from(Event)
        .join(StepRun, and_(StepRun.run_id == Event.run_id, StepRun.step_id == Event.step_id))
    )
    merge_rejected = merge.where(
        Event.run_id == Run.id, Event.type == ev.APPROVAL_REJECTED, StepRun.agent == MERGE_AGENT
    ).exists()
    query = (
        select(
            Run.ended_at,
            Workflow.name.label("workflow"),
            Run.status,
            retried.label("retried"),
            rerun.label("rerun"),
            merge_rejected.label("merge_rejected"),
        )
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.status.in_(ENDED), Run.ended_at >= since, Run.ended_at < until)
    )
    if workflow is not None:
        query = query.where(Workflow.name == workflow)
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows


async def read_mission_starts(
    session: AsyncSession, *, since: datetime, until: datetime, workflow: str | None
) -> Sequence[StartRow]:
    """Missions created in the window, each with its first run's start (``None``: none yet).

    With ``workflow``, only the missions that ran it. Each row: ``created_at``,
    ``first_started_at``.
    """
    first_start = func.min(Run.started_at).label("first_started_at")
    query = (
        select(Mission.created_at, first_start)
        .outerjoin(Run, Run.mission_id == Mission.id)
        .where(Mission.created_at >= since, Mission.created_at < until)
        .group_by(Mission.id, Mission.created_at)
    )
    if workflow is not None:
        its = aliased(Run)
        ran = exists().where(
            its.mission_id == Mission.id, Workflow.id == its.workflow_id, Workflow.name == workflow
        )
        query = query.where(ran)
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows
