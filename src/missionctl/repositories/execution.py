"""The engine's hot-path queries: blocking, Core, batched (run in a worker thread; ADR 0007)."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, Run, StepRun, Workflow
from missionctl.repositories.runs import ACTIVE_STEP_STATUSES, select_step_runs

__all__ = ["ACTIVE_STEP_STATUSES"]


def read_run(session: Session, *, run_id: uuid.UUID) -> Run | None:
    """The run, fresh from the database, or ``None``."""
    return session.get(Run, run_id, populate_existing=True)


def read_workflow(session: Session, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version, or ``None``."""
    return session.get(Workflow, workflow_id)


def read_step_runs(session: Session, *, run_id: uuid.UUID) -> list[StepRun]:
    """Every step run of a run, in definition order."""
    return list(session.scalars(select_step_runs(run_id)).all())


def lock_step_runs(session: Session, *, step_run_ids: Collection[uuid.UUID]) -> Sequence[Any]:
    """Lock and read the rows a batch of results refers to, with their run's workflow."""
    query = (
        select(
            StepRun.id,
            StepRun.run_id,
            StepRun.step_id,
            StepRun.status,
            StepRun.attempt,
            StepRun.lease_token,
            Run.workflow_id,
            Run.mission_id,
        )
        .join(Run, Run.id == StepRun.run_id)
        .where(StepRun.id.in_(step_run_ids))
        .with_for_update(of=StepRun)
    )
    return session.execute(query).all()


def read_step_statuses(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> dict[str, str]:
    """``step_id → status`` for the given steps of a run."""
    rows = session.execute(
        select(StepRun.step_id, StepRun.status).where(
            StepRun.run_id == run_id, StepRun.step_id.in_(step_ids)
        )
    )
    return {row.step_id: row.status for row in rows}


def count_steps_by_status(session: Session, *, run_id: uuid.UUID) -> dict[str, int]:
    """How many of a run's steps are in each status."""
    rows = session.execute(
        select(StepRun.status, func.count())
        .where(StepRun.run_id == run_id)
        .group_by(StepRun.status)
    )
    return {status: int(count) for status, count in rows.all()}


def update_steps_by_id(
    session: Session, *, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """Set ``columns`` on each step run ``rows[i]["_id"]`` — one Core executemany.

    Core on the table (not the ORM's bulk mode): this is the hot path; ORM readers use
    ``populate_existing``.
    """
    if not rows:
        return
    table = cast(Table, StepRun.__table__)
    statement = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({column: bindparam(f"v_{column}") for column in columns})
    )
    params = [
        {"_id": row["_id"], **{f"v_{column}": row[column] for column in columns}} for row in rows
    ]
    session.execute(statement, params)


def update_steps_by_step_id(
    session: Session, *, run_id: uuid.UUID, step_ids: Collection[str], values: dict[str, Any]
) -> None:
    """Set ``values`` on the named steps of a run."""
    if not step_ids:
        return
    session.execute(
        update(StepRun)
        .where(StepRun.run_id == run_id, StepRun.step_id.in_(step_ids))
        .values(values),
        execution_options={"synchronize_session": False},
    )


def add_run_usage(
    session: Session, *, run_id: uuid.UUID, micros: int, input_tokens: int, output_tokens: int
) -> None:
    """Add spending to a run."""
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(
            spent_micros=Run.spent_micros + micros,
            input_tokens=Run.input_tokens + input_tokens,
            output_tokens=Run.output_tokens + output_tokens,
        ),
        execution_options={"synchronize_session": False},
    )


def add_mission_usage(
    session: Session, *, mission_id: uuid.UUID, micros: int, input_tokens: int, output_tokens: int
) -> None:
    """Add spending to a mission."""
    session.execute(
        update(Mission)
        .where(Mission.id == mission_id)
        .values(
            spent_micros=Mission.spent_micros + micros,
            input_tokens=Mission.input_tokens + input_tokens,
            output_tokens=Mission.output_tokens + output_tokens,
        ),
        execution_options={"synchronize_session": False},
    )


def read_claimable(session: Session, *, now: datetime, limit: int) -> Sequence[Any]:
    """Queued steps of running runs whose backoff has passed, oldest first, locked for claiming.

    On PostgreSQL rows another worker is claiming are skipped (``SKIP LOCKED``), so workers
    never wait on each other; on SQLite the write lock already serialises claimers.
    """
    query = (
        select(
            StepRun.id,
            StepRun.run_id,
            StepRun.step_id,
            StepRun.attempt,
            StepRun.agent,
            StepRun.inputs,
            StepRun.estimate_micros,
            Run.workflow_id,
            Run.mission_id,
            Run.budget_micros,
            Run.spent_micros,
        )
        .join(Run, Run.id == StepRun.run_id)
        .where(
            StepRun.status == "queued",
            or_(StepRun.not_before.is_(None), StepRun.not_before <= now),
            Run.status == "running",
        )
        .order_by(StepRun.queued_at, StepRun.id)
        .limit(limit)
        .with_for_update(of=StepRun, skip_locked=True)
    )
    return session.execute(query).all()


def count_running_by_run(
    session: Session, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Running steps per run."""
    rows = session.execute(
        select(StepRun.run_id, func.count())
        .where(StepRun.run_id.in_(run_ids), StepRun.status == "running")
        .group_by(StepRun.run_id)
    )
    return {run_id: int(count) for run_id, count in rows.all()}


def reserved_by_run(session: Session, *, run_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The estimates of running steps per run: money promised but not yet spent."""
    rows = session.execute(
        select(StepRun.run_id, func.coalesce(func.sum(StepRun.estimate_micros), 0))
        .where(StepRun.run_id.in_(run_ids), StepRun.status == "running")
        .group_by(StepRun.run_id)
    )
    return {run_id: int(total) for run_id, total in rows.all()}


def read_expired_leases(session: Session, *, now: datetime, limit: int = 500) -> Sequence[Any]:
    """Running steps whose lease ran out (their worker stopped heartbeating), locked."""
    query = (
        select(StepRun.id, StepRun.attempt, StepRun.lease_token, StepRun.lease_owner)
        .where(
            and_(
                StepRun.status == "running",
                StepRun.lease_expires_at.is_not(None),
                StepRun.lease_expires_at < now,
            )
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.execute(query).all()


def read_held_leases(
    session: Session, *, leases: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> set[uuid.UUID]:
    """Which of ``(step_run_id, lease_token)`` are still running under that lease."""
    if not leases:
        return set()
    tokens = dict(leases)
    rows = session.execute(
        select(StepRun.id, StepRun.lease_token).where(
            StepRun.id.in_(tokens), StepRun.status == "running"
        )
    )
    return {step_id for step_id, token in rows.all() if tokens.get(step_id) == token}
