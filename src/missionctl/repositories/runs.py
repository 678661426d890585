"""Run and step-run queries used by the services and the engine's hot path (Core, batched)."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Mission, Run, StepRun, Workflow

ACTIVE_STEP_STATUSES = ("waiting", "queued", "running", "awaiting_approval")


async def read_run(session: AsyncSession, *, run_id: uuid.UUID) -> Run | None:
    """The run, or ``None`` (fresh from the database: the hot path updates runs with Core)."""
    return await session.get(Run, run_id, populate_existing=True)


async def read_workflow(session: AsyncSession, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version, or ``None``."""
    return await session.get(Workflow, workflow_id)


async def read_step_runs(session: AsyncSession, *, run_id: uuid.UUID) -> list[StepRun]:
    """Every step run of a run, in creation (definition) order."""
    rows = await session.scalars(
        select(StepRun)
        .where(StepRun.run_id == run_id)
        .order_by(StepRun.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def lock_step_runs(
    session: AsyncSession, *, step_run_ids: Collection[uuid.UUID]
) -> Sequence[Any]:
    """Lock and read the rows a batch of results refers to, with their run's workflow."""
    query = (
        select(
            StepRun.id,
            StepRun.run_id,
            StepRun.step_id,
            StepRun.status,
            StepRun.attempt,
            StepRun.lease_token,
            StepRun.started_at,
            Run.workflow_id,
            Run.mission_id,
        )
        .join(Run, Run.id == StepRun.run_id)
        .where(StepRun.id.in_(step_run_ids))
        .with_for_update(of=StepRun)
    )
    return (await session.execute(query)).all()


async def read_step_statuses(
    session: AsyncSession, *, run_id: uuid.UUID, step_ids: Collection[str]
) -> dict[str, str]:
    """``step_id → status`` for the given steps of a run."""
    rows = await session.execute(
        select(StepRun.step_id, StepRun.status).where(
            StepRun.run_id == run_id, StepRun.step_id.in_(step_ids)
        )
    )
    return {row.step_id: row.status for row in rows}


async def count_steps_by_status(session: AsyncSession, *, run_id: uuid.UUID) -> dict[str, int]:
    """How many of a run's steps are in each status."""
    rows = await session.execute(
        select(StepRun.status, func.count())
        .where(StepRun.run_id == run_id)
        .group_by(StepRun.status)
    )
    return {status: int(count) for status, count in rows.all()}


async def update_steps_by_id(
    session: AsyncSession, *, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """Set ``columns`` on each step run ``rows[i]["_id"]`` — one Core executemany.

    Core on the table (not the ORM's bulk mode) because this is the engine's hot path; the
    caller's ORM objects are not refreshed (readers use ``populate_existing``).
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
    await session.execute(statement, params)


async def update_steps_by_step_id(
    session: AsyncSession,
    *,
    run_id: uuid.UUID,
    step_ids: Collection[str],
    values: dict[str, Any],
) -> None:
    """Set ``values`` on the named steps of a run."""
    if not step_ids:
        return
    await session.execute(
        update(StepRun)
        .where(StepRun.run_id == run_id, StepRun.step_id.in_(step_ids))
        .values(values),
        execution_options={"synchronize_session": False},
    )


async def add_run_usage(
    session: AsyncSession, *, run_id: uuid.UUID, micros: int, input_tokens: int, output_tokens: int
) -> None:
    """Add spending to a run."""
    await session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(
            spent_micros=Run.spent_micros + micros,
            input_tokens=Run.input_tokens + input_tokens,
            output_tokens=Run.output_tokens + output_tokens,
        ),
        execution_options={"synchronize_session": False},
    )


async def add_mission_usage(
    session: AsyncSession,
    *,
    mission_id: uuid.UUID,
    micros: int,
    input_tokens: int,
    output_tokens: int,
) -> None:
    """Add spending to a mission."""
    await session.execute(
        update(Mission)
        .where(Mission.id == mission_id)
        .values(
            spent_micros=Mission.spent_micros + micros,
            input_tokens=Mission.input_tokens + input_tokens,
            output_tokens=Mission.output_tokens + output_tokens,
        ),
        execution_options={"synchronize_session": False},
    )


async def read_claimable(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[Any]:
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
    return (await session.execute(query)).all()


async def count_running_by_run(
    session: AsyncSession, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Running steps per run."""
    rows = await session.execute(
        select(StepRun.run_id, func.count())
        .where(StepRun.run_id.in_(run_ids), StepRun.status == "running")
        .group_by(StepRun.run_id)
    )
    return {run_id: int(count) for run_id, count in rows.all()}


async def read_expired_leases(
    session: AsyncSession, *, now: datetime, limit: int = 500
) -> Sequence[Any]:
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
    return (await session.execute(query)).all()


async def read_held_leases(
    session: AsyncSession, *, leases: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> set[uuid.UUID]:
    """Which of ``(step_run_id, lease_token)`` are still running under that lease."""
    if not leases:
        return set()
    tokens = dict(leases)
    rows = await session.execute(
        select(StepRun.id, StepRun.lease_token).where(
            StepRun.id.in_(tokens), StepRun.status == "running"
        )
    )
    return {step_id for step_id, token in rows.all() if tokens.get(step_id) == token}


async def reserved_by_run(
    session: AsyncSession, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The estimates of running steps per run: money promised but not yet spent."""
    rows = await session.execute(
        select(StepRun.run_id, func.coalesce(func.sum(StepRun.estimate_micros), 0))
        .where(StepRun.run_id.in_(run_ids), StepRun.status == "running")
        .group_by(StepRun.run_id)
    )
    return {run_id: int(total) for run_id, total in rows.all()}
