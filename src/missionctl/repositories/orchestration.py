"""The facts of orchestration's figures: runs that ended with their fix-ups, missions' starts.

Each function takes the session keyword-only and reads in one statement (ADR 0116), counted
in the database so that a year of 100,000 runs is a few hundred rows. Times are
UTC; a window is ``[since, until)``.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from missionctl.db.models import Event, Mission, Run, StepRun, Workflow
from missionctl.db.types import utc_day_of
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
    """A row of :func:`read_ended_runs`: ``runs`` runs alike in everything else."""

    day: date
    workflow: str
    completed: int
    retried: int
    rerun: int
    merge_rejected: int
    runs: int


class StartRow(Protocol):
    """A row of :func:`read_mission_starts`."""

    created_at: datetime
    first_started_at: datetime | None


async def read_ended_runs(
    session: AsyncSession, *, since: datetime, until: datetime, workflow: str | None
) -> Sequence[EndedRow]:
    """Runs that ended in the window (of workflow ``workflow`` only, when given), counted.

    One row per UTC day they ended on, workflow (its name), whether they completed, and
    whether someone retried a step of theirs (``retried``), reran them or started them as a
    rerun (``rerun``), or rejected a merge in them (``merge_rejected``): each 0 or 1, with how
    many ``runs`` share them. The few runs a hand touched are found first, by the events'
    ``(type, ts)`` index and the runs' ``rerun_of`` index, so the ended runs are read once.
    """
    later = aliased(Run)
    retried_ids = select(Event.run_id).where(Event.type == ev.STEP_RETRIED)
    rerun_ids = select(later.rerun_of).where(later.rerun_of.is_not(None))
    merge_ids = (
        select(Event.run_id)
        .join(StepRun, and_(StepRun.run_id == Event.run_id, StepRun.step_id == Event.step_id))
        .where(Event.type == ev.APPROVAL_REJECTED, StepRun.agent == MERGE_AGENT)
    )
    flags = {
        "completed": Run.status == RunStatus.completed,
        "retried": Run.id.in_(retried_ids),
        "rerun": or_(Run.rerun_of.is_not(None), Run.id.in_(rerun_ids)),
        "merge_rejected": Run.id.in_(merge_ids),
    }
    columns = [case((test, 1), else_=0).label(name) for name, test in flags.items()]
    day = utc_day_of(Run.ended_at).label("day")
    query = (
        select(day, Workflow.name.label("workflow"), *columns, func.count().label("runs"))
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.status.in_(ENDED), Run.ended_at >= since, Run.ended_at < until)
        .group_by(day, Workflow.name, *columns)
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
