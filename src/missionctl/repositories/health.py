"""The system's vital figures in one round trip: queue, running, failures, spending, gates.

Every figure is an indexed read (``ix_step_runs_status_queued_at`` for the statuses,
``ix_step_runs_ended_at`` for the time windows, ``ix_approvals_decision_requested_at``
for undecided approvals, ``ix_workers_last_heartbeat_at`` for live workers), and all of them go
in one ``SELECT`` of scalar subqueries, so the health strip costs one statement.
"""

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Approval, Event, Run, StepRun, Worker
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


async def first_event_hash(session: AsyncSession) -> str | None:
    """The hash of the event log's first event (seq 1), or ``None`` while the log is empty."""
    found: str | None = await session.scalar(select(Event.hash).where(Event.seq == 1))
    return found


def _count_steps(status: StepRunStatus) -> ScalarSelect[int]:
    return (
        select(func.count()).select_from(StepRun).where(StepRun.status == status).scalar_subquery()
    )


async def read_health_figures(session: AsyncSession, *, now: datetime) -> HealthFigures:
    """The figures at ``now``: failures over the last 24 hours, spending over the last hour.

    Spending is ``repositories.costs.dated_spend`` over the hour: what the cost breakdowns'
    burn rate counts too (a step's every attempt, dated when it ended, or when its current
    attempt started while it has not).
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
    query = select(
        _count_steps(StepRunStatus.queued),
        _count_steps(StepRunStatus.running),
        failed,
        spent,
        waiting,
        alive,
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
