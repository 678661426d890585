"""Per-agent utilisation over a time window, summed and ranked in SQL (agent-utilisation.md).

Two reads, each through an index that exists: the steps that ended at or after the window's
start (``ix_step_runs_ended_at``) and the steps running now (``ix_step_runs_status_queued_at``,
which leads with the status). Durations, their average, the 95th percentile (nearest rank, by
``row_number()`` over each agent's durations) and the busy seconds inside the window are all
computed by the database, so no duration list crosses into Python, however many steps ran.
Times are compared as seconds since the epoch: SQLite stores timestamps as text, which
``julianday`` reads; PostgreSQL's ``extract(epoch …)`` reads ``timestamptz``.
"""

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Float, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import StepRun
from missionctl.domain.states import StepRunStatus

_UNIX_EPOCH_JULIAN_DAY = 2440587.5


class FinishedUsage(NamedTuple):
    """What one agent's steps that ended inside the window add up to."""

    agent: str
    executions: int
    attempts: int
    failures: int
    avg_duration_s: float
    p95_duration_s: float
    input_tokens: int
    output_tokens: int
    cost_micros: int
    busy_s: float


class RunningStep(NamedTuple):
    """A step running now: its agent and when its attempt started."""

    agent: str
    started_at: datetime


def _epoch_s(column: Any, dialect: str) -> ColumnElement[float]:
    """``column`` (a timestamp) as seconds since the Unix epoch, on ``dialect``."""
    if dialect == "sqlite":
        return (func.julianday(column) - _UNIX_EPOCH_JULIAN_DAY) * 86400.0
    return cast(func.extract("epoch", column), Float)


def _later(dialect: str, first: Any, second: Any) -> ColumnElement[float]:
    """The later of two epoch times: SQLite's two-argument ``max``, PostgreSQL's ``greatest``."""
    if dialect == "sqlite":
        return func.max(first, second)
    return func.greatest(first, second)


async def read_finished_usage(
    session: AsyncSession, *, since: datetime, until: datetime, since_s: float
) -> list[FinishedUsage]:
    """Per agent, the steps that ran and ended in ``[since, until)``, with their busy seconds.

    ``since_s`` is ``since`` as epoch seconds. A step that started before
    ``since`` counts whole as an execution but only its part inside the window as busy time;
    steps that never started (skipped, canceled while queued) do not count.
    """
    dialect = session.get_bind().dialect.name
    # Each timestamp is converted once, in the innermost read; everything else is arithmetic.
    steps = (
        select(
            StepRun.agent.label("agent"),
            _epoch_s(StepRun.started_at, dialect).label("began"),
            _epoch_s(StepRun.ended_at, dialect).label("ended"),
            StepRun.attempt.label("attempt"),
            case((StepRun.status == StepRunStatus.failed.value, 1), else_=0).label("failed"),
            (StepRun.input_tokens + StepRun.earlier_input_tokens).label("input_tokens"),
            (StepRun.output_tokens + StepRun.earlier_output_tokens).label("output_tokens"),
            (StepRun.cost_micros + StepRun.earlier_cost_micros).label("cost"),
        )
        .where(
            StepRun.ended_at >= since,
            StepRun.ended_at < until,
            StepRun.started_at.is_not(None),
        )
        .subquery("steps")
    )
    duration = steps.c.ended - steps.c.began
    ranked = select(
        steps,
        duration.label("duration"),
        func.row_number().over(partition_by=steps.c.agent, order_by=duration).label("rn"),
        func.count().over(partition_by=steps.c.agent).label("n"),
    ).subquery("ranked")
    # Nearest rank: the smallest duration whose rank is at least 95% of the agent's count.
    at_p95 = ranked.c.rn * 100 >= ranked.c.n * 95
    busy = ranked.c.ended - _later(dialect, ranked.c.began, literal(since_s))
    query = (
        select(
            ranked.c.agent,
            func.count(),
            func.sum(ranked.c.attempt),
            func.sum(ranked.c.failed),
            func.avg(ranked.c.duration),
            func.min(case((at_p95, ranked.c.duration))),
            func.sum(ranked.c.input_tokens),
            func.sum(ranked.c.output_tokens),
            func.sum(ranked.c.cost),
            func.sum(busy),
        )
        .group_by(ranked.c.agent)
        .order_by(ranked.c.agent)
    )
    rows = (await session.execute(query)).all()
    return [
        FinishedUsage(
            agent=row[0],
            executions=int(row[1]),
            attempts=int(row[2] or 0),
            failures=int(row[3] or 0),
            avg_duration_s=float(row[4] or 0.0),
            p95_duration_s=float(row[5] or 0.0),
            input_tokens=int(row[6] or 0),
            output_tokens=int(row[7] or 0),
            cost_micros=int(row[8] or 0),
            busy_s=float(row[9] or 0.0),
        )
        for row in rows
    ]


async def read_running_steps(session: AsyncSession, *, until: datetime) -> list[RunningStep]:
    """The steps running now whose attempt started before ``until`` (few: at most capacity)."""
    query = select(StepRun.agent, StepRun.started_at).where(
        StepRun.status == StepRunStatus.running.value,
        StepRun.started_at.is_not(None),
        StepRun.started_at < until,
    )
    rows = (await session.execute(query)).all()
    return [RunningStep(agent=row[0], started_at=row[1]) for row in rows if row[1] is not None]
