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
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from missionctl.db.models import (
    Mission,
    Plan,
    Requirement,
    Run,
    StepRun,
    UsageDay,
    UsageDelta,
    Workflow,
)
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


class _Unordered(FunctionElement[Any]):
    """A column SQLite's planner may not read through an index to get its order.

    Grouping a windowed read by ``agent`` led SQLite to walk ``ix_step_runs_agent_run_id``
    for the order and look every row up, instead of reading the window's rows by
    ``ix_step_runs_ended_at``: 130 ms instead of 4 at 100,000 steps. SQLite's unary ``+``
    keeps the value and drops the index; PostgreSQL plans well without it.
    """

    inherit_cache = True
    name = "unordered"


@compiles(_Unordered)
def _unordered_default(element: _Unordered, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Unordered, "sqlite")
def _unordered_sqlite(element: _Unordered, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


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

    Only steps whose spend is dated count (they started), as in ``usage_days``; grouping by
    agent, by model or by role is a sum over these few rows.
    """
    agent = _Unordered(StepRun.agent)
    query = _scoped(
        select(agent, StepRun.model, *_sums())
        .where(_SPENT_AT.is_not(None))
        .group_by(agent, StepRun.model),
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


def dated_spend(scope: CostFilter, *, since: datetime) -> Select[tuple[int]]:
    """The spend of the scope's steps dated at or after ``since``: what a burn rate divides.

    The one definition of "spent lately", for the cost breakdowns and the health strip alike
    (the window of ``scope`` is replaced by ``since``).
    """
    recent = CostFilter(scope.run_id, scope.mission_id, scope.workflow, since=since)
    return _scoped(select(func.coalesce(func.sum(_COST), 0)), recent)


async def spent_since(
    session: AsyncSession, *, scope: CostFilter, hour_ago: datetime, day_ago: datetime
) -> tuple[int, int]:
    """The scope's spend dated since ``hour_ago`` and since ``day_ago`` (the window is ignored)."""
    query = select(
        dated_spend(scope, since=hour_ago).scalar_subquery(),
        dated_spend(scope, since=day_ago).scalar_subquery(),
    )
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


# --- Usage by day: the system-wide sums the database keeps (revision 0016, ADR 0048) ---------


def _days_and_deltas() -> Any:
    """``usage_days`` and the deltas not folded into it yet, as one set of rows."""
    columns = ("day", "agent", "model", "steps", "input_tokens", "output_tokens", "cost_micros")
    return union_all(
        select(*(getattr(UsageDay, c) for c in columns)),
        select(*(getattr(UsageDelta, c) for c in columns)),
    ).subquery("usage")


def _summed(usage: Any) -> tuple[Any, ...]:
    return tuple(
        func.coalesce(func.sum(usage.c[name]), 0)
        for name in ("steps", "input_tokens", "output_tokens", "cost_micros")
    )


async def all_usage_by_agent_and_model(session: AsyncSession) -> list[AgentModelUsage]:
    """As ``usage_by_agent_and_model`` for the whole system without a window, from the sums.

    Reads a row per day, agent and model instead of one per step.
    """
    usage = _days_and_deltas()
    query = (
        select(usage.c.agent, func.nullif(usage.c.model, ""), *_summed(usage))
        .group_by(usage.c.agent, usage.c.model)
        .having(or_(*(total != 0 for total in _summed(usage))))
    )
    return [
        AgentModelUsage(agent, model, *map(int, rest))
        for agent, model, *rest in await session.execute(query)
    ]


async def all_usage_by_day(session: AsyncSession, *, first: date, end: date) -> list[BucketRow]:
    """As ``usage_over_time`` in day buckets for the whole system, days ``[first, end)``."""
    usage = _days_and_deltas()
    tokens_in, tokens_out, micros = _summed(usage)[1:]
    query = (
        select(usage.c.day, tokens_in, tokens_out, micros)
        .where(usage.c.day >= first, usage.c.day < end)
        .group_by(usage.c.day)
        .having(or_(tokens_in != 0, tokens_out != 0, micros != 0))
        .order_by(usage.c.day)
    )
    return [BucketRow(*row) for row in await session.execute(query)]


async def has_usage_deltas(session: AsyncSession) -> bool:
    """Whether some delta waits to be folded (a read: an idle system writes nothing)."""
    return (await session.execute(select(UsageDelta.id).limit(1))).first() is not None


def fold_usage_deltas(session: Session) -> int:
    """Add the deltas into ``usage_days`` and delete them, in the caller's write transaction.

    On PostgreSQL one statement deletes the deltas and adds exactly those it deleted, so a
    delta committed meanwhile waits for the next fold; the sums are taken in (day, agent,
    model) order, so two folds lock ``usage_days`` rows in the same order and never deadlock.
    On SQLite the write lock makes the two statements one step. Days whose sums come to zero
    everywhere are deleted. Returns how many deltas were folded.
    """
    figures = "steps, input_tokens, output_tokens, cost_micros"
    upsert = "ON CONFLICT (day, agent, model) DO UPDATE SET " + ", ".join(
        f"{c} = usage_days.{c} + excluded.{c}" for c in figures.split(", ")
    )
    sums = "day, agent, model, " + ", ".join(f"sum({c})" for c in figures.split(", "))
    if session.get_bind().dialect.name == "postgresql":
        folded = session.execute(
            text(
                "WITH moved AS (DELETE FROM usage_deltas RETURNING *), "
                "counted AS (SELECT count(*) AS n FROM moved), "
                f"added AS (INSERT INTO usage_days (day, agent, model, {figures}) "
                f"SELECT {sums} FROM moved GROUP BY day, agent, model "
                f"ORDER BY day, agent, model {upsert}) "
                "SELECT n FROM counted"
            )
        ).scalar_one()
    else:
        session.execute(
            text(
                f"INSERT INTO usage_days (day, agent, model, {figures}) "
                f"SELECT {sums} FROM usage_deltas WHERE true GROUP BY day, agent, model {upsert}"
            )
        )
        folded = session.execute(text("SELECT count(*) FROM usage_deltas")).scalar_one()
        session.execute(text("DELETE FROM usage_deltas"))
    session.execute(
        text(
            "DELETE FROM usage_days WHERE steps = 0 AND input_tokens = 0 "
            "AND output_tokens = 0 AND cost_micros = 0"
        )
    )
    return int(folded)


class RoutedUsage(NamedTuple):
    """The ended ``llm:`` steps of one agent that routing gave one model, by outcome.

    ``routed_model`` is the model the step ran on and ``routed_from`` the configured model it
    would have run on; equal when routing kept the configured model.
    """

    agent: str
    routed_model: str
    routed_from: str
    succeeded: bool
    steps: int
    input_tokens: int
    output_tokens: int
    cost_micros: int


async def routed_usage(session: AsyncSession, *, scope: CostFilter) -> list[RoutedUsage]:
    """Tokens and spend of the scope's ended steps that were routed (ADR 0119), grouped."""
    succeeded = StepRun.status == StepRunStatus.succeeded.value
    query = _scoped(
        select(StepRun.agent, StepRun.routed_model, StepRun.routed_from, succeeded, *_sums())
        .where(
            StepRun.routed_model.is_not(None),
            StepRun.routed_from.is_not(None),
            StepRun.status.in_((StepRunStatus.succeeded.value, StepRunStatus.failed.value)),
        )
        .group_by(StepRun.agent, StepRun.routed_model, StepRun.routed_from, succeeded),
        scope,
    )
    return [
        RoutedUsage(str(agent), str(model), str(source), bool(ok), *map(int, rest))
        for agent, model, source, ok, *rest in await session.execute(query)
    ]
