"""Schedules: their rows, the claim of a tick, and what their runs did.

Each function takes a blocking session keyword-only and never commits: the scheduler fires in
blocking transactions beside run starts (``services.usecases.schedules``), and the async services
run these through ``AsyncSession.run_sync``. Times come from the caller, so that one transaction
uses one clock.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from missionctl.db.models import Run, Schedule, ScheduleRun, Workflow

RATE_WINDOW = 50
"""A schedule's success rate is over its newest this many ended runs."""


class RunOutcomes(NamedTuple):
    """What a schedule's runs did: the newest's status, and the newest ended ones' results."""

    last_status: str | None
    ended: int
    succeeded: int


class DueSchedule(NamedTuple):
    """A schedule a pass may fire: its id, the tick it read, and a tick waiting in its queue."""

    id: uuid.UUID
    next_fire_at: datetime
    queued_tick: datetime | None


def read_schedule(
    session: Session, *, schedule_id: uuid.UUID, for_update: bool = False
) -> Schedule | None:
    """The schedule with ``schedule_id`` unless it was deleted; ``for_update`` locks its row."""
    schedule = session.get(Schedule, schedule_id, with_for_update=for_update)
    return None if schedule is None or schedule.deleted_at is not None else schedule


def read_by_name(session: Session, *, name: str) -> Schedule | None:
    """The live (not deleted) schedule called ``name``, or ``None``."""
    query = select(Schedule).where(Schedule.name == name, Schedule.deleted_at.is_(None))
    return session.scalars(query).first()


def list_schedules(session: Session) -> Sequence[Schedule]:
    """Every live schedule, by name."""
    query = select(Schedule).where(Schedule.deleted_at.is_(None)).order_by(Schedule.name)
    return session.scalars(query).all()


def add_schedule(session: Session, *, schedule: Schedule) -> None:
    """Add a new schedule's row (flushed with the transaction)."""
    session.add(schedule)


def due_schedules(session: Session, *, now: datetime, limit: int) -> list[DueSchedule]:
    """Live, unpaused schedules with a tick due at ``now`` or a tick queued, soonest first."""
    query = (
        select(Schedule.id, Schedule.next_fire_at, Schedule.queued_tick)
        .where(
            Schedule.deleted_at.is_(None),
            Schedule.paused.is_(False),
            or_(Schedule.next_fire_at <= now, Schedule.queued_tick.is_not(None)),
        )
        .order_by(Schedule.next_fire_at)
        .limit(limit)
    )
    return [DueSchedule(*row) for row in session.execute(query)]


def claim_tick(
    session: Session, *, schedule_id: uuid.UUID, expected: datetime, following: datetime
) -> bool:
    """Move ``next_fire_at`` from ``expected`` to ``following``; ``False``: someone else did.

    The claim of a tick: of two transactions that read the same ``expected``, the second waits
    for the first's row lock (PostgreSQL) or write lock (SQLite), then matches no row.
    """
    result = session.execute(
        update(Schedule)
        .where(
            Schedule.id == schedule_id,
            Schedule.next_fire_at == expected,
            Schedule.paused.is_(False),
            Schedule.deleted_at.is_(None),
        )
        .values(next_fire_at=following)
        .returning(Schedule.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def claim_queued(session: Session, *, schedule_id: uuid.UUID, queued: datetime) -> bool:
    """Take the tick waiting in a schedule's queue; ``False``: someone else took it."""
    result = session.execute(
        update(Schedule)
        .where(
            Schedule.id == schedule_id,
            Schedule.queued_tick == queued,
            Schedule.paused.is_(False),
            Schedule.deleted_at.is_(None),
        )
        .values(queued_tick=None)
        .returning(Schedule.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def add_schedule_run(
    session: Session, *, schedule_id: uuid.UUID, run_id: uuid.UUID, tick: datetime | None
) -> None:
    """Record that the schedule started the run, for ``tick`` (``None``: run now)."""
    session.add(ScheduleRun(run_id=run_id, schedule_id=schedule_id, tick=tick))


def run_has_ended(session: Session, *, run_id: uuid.UUID) -> bool:
    """Whether the run ended (or does not exist): nothing of it is still to happen."""
    ended = session.execute(select(Run.ended_at).where(Run.id == run_id)).first()
    return ended is None or ended[0] is not None


def run_outcomes(session: Session, *, schedule_id: uuid.UUID) -> RunOutcomes:
    """The newest run's status and how many of the newest ended runs completed."""
    query = (
        select(Run.status, Run.ended_at)
        .join(ScheduleRun, ScheduleRun.run_id == Run.id)
        .where(ScheduleRun.schedule_id == schedule_id)
        .order_by(Run.id.desc())
        .limit(RATE_WINDOW)
    )
    rows = session.execute(query).all()
    ended = [str(status) for status, ended_at in rows if ended_at is not None]
    return RunOutcomes(
        last_status=str(rows[0][0]) if rows else None,
        ended=len(ended),
        succeeded=sum(1 for status in ended if status == "completed"),
    )


def schedule_of_run(session: Session, *, run_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
    """The id and name of the schedule that started the run, or ``None``."""
    query = (
        select(Schedule.id, Schedule.name)
        .join(ScheduleRun, ScheduleRun.schedule_id == Schedule.id)
        .where(ScheduleRun.run_id == run_id)
    )
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1])


def workflow_names(session: Session, *, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``name vN`` of each workflow version in ``ids``."""
    if not ids:
        return {}
    query = select(Workflow.id, Workflow.name, Workflow.version).where(and_(Workflow.id.in_(ids)))
    return {row[0]: f"{row[1]} v{row[2]}" for row in session.execute(query)}
