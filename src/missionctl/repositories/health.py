"""The system's vital figures in one round trip: queue, running, failures, spending, gates.

Every figure is an indexed read (``ix_step_runs_status_queued_at`` for the statuses,
``ix_step_runs_ended_at`` for the time windows, ``ix_approvals_decision_requested_at``
for undecided approvals, ``ix_workers_last_heartbeat_at`` for live workers; the spending caps'
table has at most ``domain.spending_caps.MAX_CAPS`` rows, read whole), and all of them go in one
``SELECT`` of scalar subqueries, so the health strip costs one statement.
"""

from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ScalarSelect, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Approval, Event, Run, SpendingCap, StepRun, Worker
from missionctl.domain.spending_caps import Level, Period, period_start
from missionctl.domain.states import StepRunStatus
from missionctl.repositories.costs import CostFilter, dated_spend
from missionctl.repositories.workers import alive_clause


class HealthFigures(NamedTuple):
    """The figures of the health strip at one moment."""

    queued: int
    running: int
    failed_24h: int
    spent_1h_micros: int
    approvals_waiting: int
    workers_alive: int
    caps_warning: int
    caps_reached: int


async def first_event_hash(session: AsyncSession) -> str | None:
    """The hash of the event log's first event (seq 1), or ``None`` while the log is empty."""
    found: str | None = await session.scalar(select(Event.hash).where(Event.seq == 1))
    return found


def _count_steps(status: StepRunStatus) -> ScalarSelect[int]:
    return (
        select(func.count()).select_from(StepRun).where(StepRun.status == status).scalar_subquery()
    )


def _count_caps(level: Level, *, day: date, month: date) -> ScalarSelect[int]:
    """Caps whose last announced level is ``level`` in their current period.

    ``day`` and ``month`` are the first days of the current UTC day and month: a level
    announced in an earlier period no longer counts (the period turned, the cap reopened).
    """
    current = or_(
        and_(SpendingCap.period == Period.day.value, SpendingCap.notified_period == day),
        and_(SpendingCap.period == Period.month.value, SpendingCap.notified_period == month),
    )
    return (
        select(func.count())
        .select_from(SpendingCap)
        .where(SpendingCap.notified_level == level.value, current)
        .scalar_subquery()
    )


async def read_health_figures(session: AsyncSession, *, now: datetime) -> HealthFigures:
    """The figures at ``now``: failures over the last 24 hours, spending over the last hour.

    Spending is ``repositories.costs.dated_spend`` over the hour: what the cost breakdowns'
    burn rate counts too (a step's every attempt, dated when it ended, or when its current
    attempt started while it has not). The caps' figures count the levels announced in each
    cap's current UTC period (``notified_period``, ``notified_level``).
    """
    failed = (
        select(func.count())
        .select_from(StepRun)
        .where(
            StepRun.status == StepRunStatus.failed, StepRun.ended_at >= now - timedelta(hours=24)
        )
        .scalar_subquery()
    )
    spent = dated_spend(CostFilter(), since=now - timedelta(hours=1)).scalar_subquery()
    # As the approvals queue counts them: undecided, the step still waiting at that attempt.
    waiting = (
        select(func.count())
        .select_from(Approval)
        .join(StepRun, StepRun.id == Approval.step_run_id)
        .where(
            Approval.decision.is_(None),
            StepRun.status == StepRunStatus.awaiting_approval,
            StepRun.attempt == Approval.attempt,
        )
        .scalar_subquery()
    )
    alive = select(func.count()).select_from(Worker).where(*alive_clause(now)).scalar_subquery()
    periods = {"day": period_start(Period.day, now), "month": period_start(Period.month, now)}
    query = select(
        _count_steps(StepRunStatus.queued),
        _count_steps(StepRunStatus.running),
        failed,
        spent,
        waiting,
        alive,
        _count_caps(Level.warning, **periods),
        _count_caps(Level.reached, **periods),
    )
    row = (await session.execute(query)).one()
    return HealthFigures(*(int(value or 0) for value in row))


async def count_by_status(session: AsyncSession) -> tuple[dict[str, int], dict[str, int]]:
    """How many runs and how many step runs there are in each status (absent: none)."""
    runs = await session.execute(select(Run.status, func.count()).group_by(Run.status))
    steps = await session.execute(select(StepRun.status, func.count()).group_by(StepRun.status))
    return (
        {str(status): int(count) for status, count in runs.all()},
        {str(status): int(count) for status, count in steps.all()},
    )
