"""The aggregate reads behind the dashboard's lists and pages: progress, newest plans and runs.

Each takes many ids at once and answers in one query, so that a page of 50 rows costs a few
queries, not a few per row.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Mission, Plan, Run, StepRun, Workflow
from missionctl.repositories.search import search_pattern
from missionctl.schemas.runs import RunFilters

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


class PlanSummary(NamedTuple):
    """A mission's newest plan in a list: who wrote it and how many tasks it has."""

    source: str
    tasks: int


class LatestRun(NamedTuple):
    """A mission's newest run in a list."""

    id: uuid.UUID
    status: str


class MissionRun(NamedTuple):
    """A run of a mission with the plan its workflow was compiled from (if any).

    ``updated_at``: the run's last change (it started, spent, ended), which the mission page
    counts as activity of the mission.
    """

    id: uuid.UUID
    plan_id: uuid.UUID | None
    definition: dict[str, Any]
    updated_at: datetime


class RunListRow(NamedTuple):
    """A run in the runs list, with its workflow's name and version and its mission's title.

    ``from_plan``: its workflow was compiled from a plan (its outcomes count tasks, not steps).
    """

    run: Run
    workflow: str
    workflow_version: int
    mission_title: str | None
    from_plan: bool


class StepOutcomeRow(NamedTuple):
    """A step of a run as the run's outcomes count it (``domain.outcomes``; None: not ended)."""

    step_id: str
    agent: str
    outcome: str | None


async def read_latest_plans(
    session: AsyncSession, *, mission_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PlanSummary]:
    """The newest plan of each mission that has one."""
    if not mission_ids:
        return {}
    newest = (
        select(Plan.mission_id, func.max(Plan.version).label("version"))
        .where(Plan.mission_id.in_(mission_ids))
        .group_by(Plan.mission_id)
        .subquery()
    )
    query = select(Plan.mission_id, Plan.source, func.json_array_length(Plan.tasks)).join(
        newest, (Plan.mission_id == newest.c.mission_id) & (Plan.version == newest.c.version)
    )
    rows = await session.execute(query)
    return {row[0]: PlanSummary(row[1], int(row[2] or 0)) for row in rows}


async def read_latest_runs(
    session: AsyncSession, *, mission_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, LatestRun]:
    """The newest run of each mission that has one."""
    if not mission_ids:
        return {}
    latest: dict[uuid.UUID, LatestRun] = {}
    query = select(Run.mission_id, Run.id, Run.status).where(Run.mission_id.in_(mission_ids))
    for mission_id, run_id, status in await session.execute(query.order_by(Run.id)):
        if mission_id is not None:  # ids grow with time: the newest run wins
            latest[mission_id] = LatestRun(run_id, status)
    return latest


async def read_step_counts(
    session: AsyncSession, *, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """How many steps of each run have each status (a run without steps is absent)."""
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    if run_ids:
        query = (
            select(StepRun.run_id, StepRun.status, func.count())
            .where(StepRun.run_id.in_(run_ids))
            .group_by(StepRun.run_id, StepRun.status)
        )
        for run_id, status, n in await session.execute(query):
            counts[run_id][status] = int(n)
    return counts


async def read_step_outcomes(
    session: AsyncSession, *, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StepOutcomeRow]]:
    """Each run's steps with their outcomes (a run without steps is absent)."""
    outcomes: dict[uuid.UUID, list[StepOutcomeRow]] = defaultdict(list)
    if run_ids:
        query = select(StepRun.run_id, StepRun.step_id, StepRun.agent, StepRun.outcome).where(
            StepRun.run_id.in_(run_ids)
        )
        for run_id, step_id, agent, outcome in await session.execute(query):
            outcomes[run_id].append(StepOutcomeRow(step_id, agent, outcome))
    return outcomes


async def read_mission_runs(session: AsyncSession, *, mission_id: uuid.UUID) -> list[MissionRun]:
    """Every run of the mission, newest first, with its workflow's plan and definition."""
    query = (
        select(Run.id, Workflow.plan_id, Workflow.definition, Run.updated_at)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.mission_id == mission_id)
        .order_by(Run.id.desc())
    )
    return [MissionRun(*row) for row in (await session.execute(query)).all()]


def _filtered(query: _Query, filters: RunFilters) -> _Query:
    """``query`` over runs narrowed by ``filters``.

    Each filter is a condition on a column of ``runs`` (the workflow, mission and agent as
    id sets read through their indexes), so the count needs no join.
    """
    if filters.status is not None:
        query = query.where(Run.status == filters.status.value)
    if filters.mission_id is not None:
        query = query.where(Run.mission_id == filters.mission_id)
    if filters.workflow:
        named = select(Workflow.id).where(Workflow.name == filters.workflow)
        query = query.where(Run.workflow_id.in_(named))
    if filters.agent:
        query = query.where(
            Run.id.in_(select(StepRun.run_id).where(StepRun.agent == filters.agent))
        )
    if filters.created_after is not None:
        query = query.where(Run.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Run.created_at < filters.created_before)
    if filters.created_by:
        query = query.where(Run.created_by == filters.created_by)
    if filters.started_after is not None:
        query = query.where(Run.started_at >= filters.started_after)
    if filters.started_before is not None:
        query = query.where(Run.started_at < filters.started_before)
    if filters.q and filters.q.strip():
        query = query.where(_search(filters.q.strip()))
    return query


def _search(text: str) -> Any:
    """Runs whose workflow name, mission title or error contains ``text``."""
    pattern = search_pattern(text)
    return or_(
        Run.workflow_id.in_(select(Workflow.id).where(Workflow.name.ilike(pattern, escape="\\"))),
        Run.mission_id.in_(select(Mission.id).where(Mission.title.ilike(pattern, escape="\\"))),
        Run.error.ilike(pattern, escape="\\"),
    )


async def read_runs(
    session: AsyncSession, *, filters: RunFilters, before_id: uuid.UUID | None, limit: int
) -> list[RunListRow]:
    """Up to ``limit`` runs matching ``filters``, newest first, older than ``before_id``."""
    query = _filtered(
        select(Run, Workflow.name, Workflow.version, Mission.title, Workflow.plan_id.is_not(None))
        .join(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(Mission, Mission.id == Run.mission_id),
        filters,
    )
    if before_id is not None:
        query = query.where(Run.id < before_id)
    rows = (await session.execute(query.order_by(Run.id.desc()).limit(limit))).all()
    return [RunListRow(*row) for row in rows]


async def count_runs(session: AsyncSession, *, filters: RunFilters) -> int:
    """How many runs match ``filters``."""
    query = select(func.count()).select_from(Run)
    return int(await session.scalar(_filtered(query, filters)) or 0)


async def read_run_inputs(session: AsyncSession, *, run_id: uuid.UUID) -> dict[str, Any]:
    """The inputs the run was started with (``{}`` when it had none)."""
    inputs = await session.scalar(select(Run.inputs).where(Run.id == run_id))
    return dict(inputs or {})


async def read_plan_version(session: AsyncSession, *, plan_id: uuid.UUID) -> int | None:
    """The version number of a plan, or ``None`` when there is no such plan."""
    return await session.scalar(select(Plan.version).where(Plan.id == plan_id))
