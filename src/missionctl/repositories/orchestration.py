"""The facts of orchestration's figures: runs' fix-ups, missions' starts, edits, work's starts.

Each function takes the session keyword-only and reads in one statement (ADR 0116), counted
in the database so that a year of 100,000 runs is a few hundred rows. The edits and the work
starts are the rows the orchestration follower derives (``db.orchestration``, ADR 0117). Times
are UTC; a span is ``[since, until)``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from missionctl.db.models import Event, Mission, Run, StepRun, Workflow
from missionctl.db.orchestration import StepEdit, WorkStart
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


@dataclass(frozen=True, slots=True)
class Span:
    """What a figure reads: ``[since, until)``, of one workflow (by name) or, ``None``, all."""

    since: datetime
    until: datetime
    workflow: str | None = None


class EndedRow(Protocol):
    """A row of :func:`read_ended_runs`: ``runs`` runs alike in everything else."""

    day: date
    workflow: str
    completed: int
    retried: int
    rerun: int
    merge_rejected: int
    runs: int


class EditsRow(Protocol):
    """A row of :func:`read_edits`: one day's and workflow's coding steps' diffs, summed."""

    day: date
    workflow: str
    steps: int
    lines: int
    repeated: int
    steps_repeating: int


class WorkStartRow(Protocol):
    """A row of :func:`read_work_starts`: ``tasks`` tasks alike in everything else."""

    day: date
    workflow: str
    had_prd: bool
    had_task_list: bool
    spec_required: bool
    had_spec: bool
    tasks: int


class StartRow(Protocol):
    """A row of :func:`read_mission_starts`."""

    created_at: datetime
    first_started_at: datetime | None


async def read_ended_runs(session: AsyncSession, *, span: Span) -> Sequence[EndedRow]:
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
        .where(Run.status.in_(ENDED), Run.ended_at >= span.since, Run.ended_at < span.until)
        .group_by(day, Workflow.name, *columns)
    )
    if span.workflow is not None:
        query = query.where(Workflow.name == span.workflow)
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows


async def read_mission_starts(session: AsyncSession, *, span: Span) -> Sequence[StartRow]:
    """Missions created in the window, each with its first run's start (``None``: none yet).

    With ``workflow``, only the missions that ran it. Each row: ``created_at``,
    ``first_started_at``.
    """
    first_start = func.min(Run.started_at).label("first_started_at")
    query = (
        select(Mission.created_at, first_start)
        .outerjoin(Run, Run.mission_id == Mission.id)
        .where(Mission.created_at >= span.since, Mission.created_at < span.until)
        .group_by(Mission.id, Mission.created_at)
    )
    if span.workflow is not None:
        its = aliased(Run)
        ran = exists().where(
            its.mission_id == Mission.id,
            Workflow.id == its.workflow_id,
            Workflow.name == span.workflow,
        )
        query = query.where(ran)
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows


async def read_edits(session: AsyncSession, *, span: Span) -> Sequence[EditsRow]:
    """Coding steps' diffs recorded in the window, summed per UTC day and workflow.

    Each row: ``steps`` (diffs), their changed ``lines``, the ``repeated`` ones (changed
    before by a coding step of the same mission) and ``steps_repeating`` (diffs with one).
    """
    day = utc_day_of(StepEdit.edited_at).label("day")
    repeating = func.sum(case((StepEdit.repeated > 0, 1), else_=0))
    query = (
        select(
            day,
            Workflow.name.label("workflow"),
            func.count().label("steps"),
            func.sum(StepEdit.lines).label("lines"),
            func.sum(StepEdit.repeated).label("repeated"),
            repeating.label("steps_repeating"),
        )
        .join(Run, Run.id == StepEdit.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(StepEdit.edited_at >= span.since, StepEdit.edited_at < span.until)
        .group_by(day, Workflow.name)
    )
    if span.workflow is not None:
        query = query.where(Workflow.name == span.workflow)
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows


async def read_work_starts(session: AsyncSession, *, span: Span) -> Sequence[WorkStartRow]:
    """Implementation tasks whose work started in the window, counted.

    One row per day, workflow and what they had by then (``had_prd``, ``had_task_list``,
    ``spec_required``, ``had_spec``), with how many ``tasks`` share them.
    """
    day = utc_day_of(WorkStart.started_at).label("day")
    had = (
        WorkStart.had_prd,
        WorkStart.had_task_list,
        WorkStart.spec_required,
        WorkStart.had_spec,
    )
    query = (
        select(day, Workflow.name.label("workflow"), *had, func.count().label("tasks"))
        .join(Run, Run.id == WorkStart.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(WorkStart.started_at >= span.since, WorkStart.started_at < span.until)
        .group_by(day, Workflow.name, *had)
    )
    if span.workflow is not None:
        query = query.where(Workflow.name == span.workflow)
    rows: Sequence[Any] = (await session.execute(query)).all()
    return rows
