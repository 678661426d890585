"""The aggregate reads behind cost and usage: spend grouped by agent, model, step and time.

Every figure comes from ``step_runs`` (and ``runs`` / ``missions`` for totals and caps), never
from the event log. A step's spend is ``cost_micros + earlier_cost_micros`` (its current
attempt and the ones before, ADR 0042), so the sums add up to what runs were charged. A step's
spend is dated when the step ended, or when its current attempt started if it has not ended
(a step waiting for its retry keeps the failed attempt's spend).

A scope narrows the steps to one run, one mission's runs, the runs of every version of one
workflow, or none (the whole system); a window narrows them to the spend dated within it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from missionctl.db.models import Mission, Plan, Requirement, Run, StepRun, Workflow
from missionctl.domain.states import StepRunStatus

Bucket = Literal["hour", "day"]


@dataclass(frozen=True, slots=True)
class CostFilter:
    """Which steps a cost read covers.

    Attributes:
        run_id, mission_id, workflow: At most one is set: one run, the runs of one mission, the
            runs of every version of the workflow with this name; none: the whole system.
        since, until: The spend dated in ``[since, until)``; ``None`` leaves that side open.
    """

    run_id: uuid.UUID | None = None
    mission_id: uuid.UUID | None = None
    workflow: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class UsageRow(NamedTuple):
    """Tokens and spend of a group of steps (``key`` is ``None`` for steps without one)."""

    key: str | None
    steps: int
    input_tokens: int
    output_tokens: int
    cost_micros: int


class StepUsage(NamedTuple):
    """The spend of one step id in the runs of one plan (the plan its workflow came from)."""

    plan_id: uuid.UUID | None
    step_id: str
    steps: int
    input_tokens: int
    output_tokens: int
    cost_micros: int


class BucketRow(NamedTuple):
    """The spend dated in one bucket, its start as the database wrote it."""

    start: Any
    input_tokens: int
    output_tokens: int
    cost_micros: int


class Totals(NamedTuple):
    """What the runs in a scope were charged, and the cap their spend is held to."""

    runs: int
    spent_micros: int
    input_tokens: int
    output_tokens: int
    budget_micros: int | None


_COST = StepRun.cost_micros + StepRun.earlier_cost_micros
_INPUT = StepRun.input_tokens + StepRun.earlier_input_tokens
_OUTPUT = StepRun.output_tokens + StepRun.earlier_output_tokens
# When a step's spend is dated: its end, or its current attempt's start before it ends.
_SPENT_AT = func.coalesce(StepRun.ended_at, StepRun.started_at)
# The only statuses with no end time that may hold spend (a retry waiting, or running again).
_UNENDED = (StepRunStatus.queued.value, StepRunStatus.running.value)


class _Truncated(FunctionElement[Any]):
    """A timestamp truncated to the start of its hour or day, in UTC, on either database."""

    inherit_cache = True
    name = "truncated"

    def __init__(self, unit: Bucket, value: ColumnElement[Any]) -> None:
        self.unit = unit
        super().__init__(value)


@compiles(_Truncated, "postgresql")
def _truncated_postgresql(element: _Truncated, compiler: SQLCompiler, **kw: Any) -> str:
    # The session's time zone is UTC (timestamptz is shown in it); say so regardless.
    inner = compiler.process(element.clauses, **kw)
    return f"date_trunc('{element.unit}', ({inner}) AT TIME ZONE 'UTC')"


@compiles(_Truncated, "sqlite")
def _truncated_sqlite(element: _Truncated, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC text; strftime keeps the part that names the bucket.
    pattern = "%Y-%m-%d %H:00:00" if element.unit == "hour" else "%Y-%m-%d 00:00:00"
    return f"strftime('{pattern}', {compiler.process(element.clauses, **kw)})"


def _in_window(scope: CostFilter) -> list[ColumnElement[bool]]:
    """Conditions keeping the steps whose spend is dated in the scope's window.

    Written as an OR of an ended step's ``ended_at`` (indexed) and an unfinished step's start,
    rather than on ``_SPENT_AT``, which no index serves.
    """
    if scope.since is None and scope.until is None:
        return []
    ended: list[ColumnElement[bool]] = [StepRun.ended_at.is_not(None)]
    unended: list[ColumnElement[bool]] = [
        StepRun.ended_at.is_(None),
        StepRun.status.in_(_UNENDED),
    ]
    if scope.since is not None:
        ended.append(StepRun.ended_at >= scope.since)
        unended.append(StepRun.started_at >= scope.since)
    if scope.until is not None:
        ended.append(StepRun.ended_at < scope.until)
        unended.append(StepRun.started_at < scope.until)
    return [or_(and_(*ended), and_(*unended))]


def _scoped(query: Select[Any], scope: CostFilter) -> Select[Any]:
    """``query`` over ``step_runs`` narrowed to the scope's runs and window."""
    if scope.run_id is not None:
        query = query.where(StepRun.run_id == scope.run_id)
    elif scope.mission_id is not None:
        runs = select(Run.id).where(Run.mission_id == scope.mission_id)
        query = query.where(StepRun.run_id.in_(runs))
    elif scope.workflow is not None:
        runs = (
            select(Run.id)
            .join(Workflow, Workflow.id == Run.workflow_id)
            .where(Workflow.name == scope.workflow)
        )
        query = query.where(StepRun.run_id.in_(runs))
    return query.where(*_in_window(scope))


def _sums() -> tuple[Any, ...]:
    return (
        func.count(),
        func.coalesce(func.sum(_INPUT), 0),
        func.coalesce(func.sum(_OUTPUT), 0),
        func.coalesce(func.sum(_COST), 0),
    )


class AgentModelUsage(NamedTuple):
    """Tokens and spend of the steps of one agent billed at one model (``None``: no model)."""

    agent: str
    model: str | None
    steps: int
    input_tokens: int
    output_tokens: int
    cost_micros: int


async def usage_by_agent_and_model(
    session: AsyncSession, *, scope: CostFilter
) -> list[AgentModelUsage]:
    """Tokens and spend of the scope's steps per (agent, billed model): one pass over them.

    Steps that never ran count in their agent's group with nothing spent; grouping by agent,
    by model or by role is a sum over these few rows.
    """
    query = _scoped(
        select(StepRun.agent, StepRun.model, *_sums()).group_by(StepRun.agent, StepRun.model),
        scope,
    )
    return [
        AgentModelUsage(agent, model, *map(int, rest))
        for agent, model, *rest in await session.execute(query)
    ]


async def usage_by_step(session: AsyncSession, *, scope: CostFilter) -> list[StepUsage]:
    """Tokens and spend per step id and per plan the scope's runs were compiled from."""
    query = _scoped(
        select(Workflow.plan_id, StepRun.step_id, *_sums())
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .group_by(Workflow.plan_id, StepRun.step_id),
        scope,
    )
    return [
        StepUsage(plan_id, step_id, *map(int, rest))
        for plan_id, step_id, *rest in await session.execute(query)
    ]


async def usage_over_time(
    session: AsyncSession, *, scope: CostFilter, bucket: Bucket
) -> list[BucketRow]:
    """Tokens and spend per UTC hour or day of the scope's window, oldest first.

    Only buckets with steps are returned; the start is a ``datetime`` on PostgreSQL and text
    (``YYYY-MM-DD HH:MM:SS``, UTC) on SQLite.
    """
    start = _Truncated(bucket, _SPENT_AT).label("start")
    query = _scoped(
        select(start, *_sums()[1:])
        .where(_SPENT_AT.is_not(None), _COST + _INPUT + _OUTPUT > 0)
        .group_by(start)
        .order_by(start),
        scope,
    )
    return [BucketRow(*row) for row in await session.execute(query)]


async def spent_since(
    session: AsyncSession, *, scope: CostFilter, hour_ago: datetime, day_ago: datetime
) -> tuple[int, int]:
    """The scope's spend dated since ``hour_ago`` and since ``day_ago`` (the window is ignored)."""
    recent = CostFilter(scope.run_id, scope.mission_id, scope.workflow, since=day_ago)
    last_hour = func.sum(case((hour_ago <= _SPENT_AT, _COST), else_=0))
    query = _scoped(select(func.coalesce(last_hour, 0), func.coalesce(func.sum(_COST), 0)), recent)
    hour, day = (await session.execute(query)).one()
    return int(hour), int(day)


async def run_totals(session: AsyncSession, *, scope: CostFilter) -> Totals:
    """What the scope's runs were charged (their own counters) and their cap.

    The cap is the run's for a run scope; for other scopes it is ``None`` (a mission's cap is
    read with :func:`read_mission_budget`).
    """
    query = select(
        func.count(),
        func.coalesce(func.sum(Run.spent_micros), 0),
        func.coalesce(func.sum(Run.input_tokens), 0),
        func.coalesce(func.sum(Run.output_tokens), 0),
        func.max(Run.budget_micros),
    )
    if scope.run_id is not None:
        query = query.where(Run.id == scope.run_id)
    elif scope.mission_id is not None:
        query = query.where(Run.mission_id == scope.mission_id)
    elif scope.workflow is not None:
        query = query.join(Workflow, Workflow.id == Run.workflow_id).where(
            Workflow.name == scope.workflow
        )
    runs, spent, tokens_in, tokens_out, cap = (await session.execute(query)).one()
    budget = cap if scope.run_id is not None else None
    return Totals(int(runs), int(spent), int(tokens_in), int(tokens_out), budget)


async def missions_spent(session: AsyncSession) -> tuple[int, int, int]:
    """Every mission's spend and tokens together (planning and runs)."""
    query = select(
        func.coalesce(func.sum(Mission.spent_micros), 0),
        func.coalesce(func.sum(Mission.input_tokens), 0),
        func.coalesce(func.sum(Mission.output_tokens), 0),
    )
    spent, tokens_in, tokens_out = (await session.execute(query)).one()
    return int(spent), int(tokens_in), int(tokens_out)


async def mission_runs_spent(session: AsyncSession) -> tuple[int, int, int]:
    """The spend and tokens of every run that belongs to a mission."""
    query = select(
        func.coalesce(func.sum(Run.spent_micros), 0),
        func.coalesce(func.sum(Run.input_tokens), 0),
        func.coalesce(func.sum(Run.output_tokens), 0),
    ).where(Run.mission_id.is_not(None))
    spent, tokens_in, tokens_out = (await session.execute(query)).one()
    return int(spent), int(tokens_in), int(tokens_out)


async def read_run_scope(session: AsyncSession, *, run_id: uuid.UUID) -> Run | None:
    """The run, or ``None``."""
    return await session.get(Run, run_id)


async def read_mission_scope(session: AsyncSession, *, mission_id: uuid.UUID) -> Mission | None:
    """The mission, or ``None``."""
    return await session.get(Mission, mission_id)


async def workflow_exists(session: AsyncSession, *, name: str) -> bool:
    """Whether some version of a workflow has this name."""
    query = select(Workflow.id).where(Workflow.name == name).limit(1)
    return (await session.execute(query)).first() is not None


async def read_traces(
    session: AsyncSession, *, plan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, list[str]]]:
    """For each plan, its tasks' requirement keys by task key (a compiled step's id)."""
    if not plan_ids:
        return {}
    query = select(Plan.id, Plan.tasks).where(Plan.id.in_(plan_ids))
    return {
        plan_id: {str(task["key"]): [str(key) for key in task.get("traces", [])] for task in tasks}
        for plan_id, tasks in await session.execute(query)
    }


async def read_requirement_texts(
    session: AsyncSession, *, plan_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], str]:
    """Each requirement's text by (plan, key)."""
    if not plan_ids:
        return {}
    query = select(Requirement.plan_id, Requirement.key, Requirement.text).where(
        Requirement.plan_id.in_(plan_ids)
    )
    return {(plan_id, key): text for plan_id, key, text in await session.execute(query)}
