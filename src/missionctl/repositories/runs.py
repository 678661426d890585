"""Run and step-run reads for the (async) services.

The engine's hot path has blocking twins of these in ``repositories.execution``; both build
their statements here so that the two can never disagree on what they ask.
"""

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Run, StepRun, Workflow
from missionctl.db.prepared import Prepared

_step_runs = cast(Table, StepRun.__table__)
# What ``insert_step_runs`` is given for each row; the other columns take their defaults.
STEP_RUN_INSERT_COLUMNS = (
    "id",
    "run_id",
    "step_id",
    "attempt",
    "status",
    "agent",
    "risk_tier",
    "inputs",
    "outputs",
    "estimate_micros",
    "queued_at",
    "started_at",
    "ended_at",
)
_INSERT_STEP_RUNS = Prepared(
    insert(_step_runs).values({column: bindparam(column) for column in STEP_RUN_INSERT_COLUMNS})
)

ACTIVE_STEP_STATUSES = ("waiting", "queued", "running", "awaiting_approval")


def select_step_runs(run_id: uuid.UUID) -> Select[Any]:
    """Every step run of a run in creation (definition) order, fresh from the database.

    ``populate_existing``: the hot path updates step runs with Core, behind the ORM's back.
    """
    return (
        select(StepRun)
        .where(StepRun.run_id == run_id)
        .order_by(StepRun.id)
        .execution_options(populate_existing=True)
    )


async def read_run(session: AsyncSession, *, run_id: uuid.UUID) -> Run | None:
    """The run, or ``None``."""
    return await session.get(Run, run_id, populate_existing=True)


async def read_workflow(session: AsyncSession, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version, or ``None``."""
    return await session.get(Workflow, workflow_id)


async def read_step_runs(session: AsyncSession, *, run_id: uuid.UUID) -> list[StepRun]:
    """Every step run of a run, in creation (definition) order."""
    return list((await session.scalars(select_step_runs(run_id))).all())


async def insert_step_runs(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert step runs, each row holding exactly ``STEP_RUN_INSERT_COLUMNS`` — one executemany.

    Core rather than ORM objects: a run of a large workflow creates thousands at once, and the
    unit of work's per-object bookkeeping would cost far more than the insert itself.
    """
    if rows:
        # Prepared on the driver (ADR 0016): SQLAlchemy's per-row parameter work is most of
        # the cost of inserting thousands of rows.
        await session.run_sync(_INSERT_STEP_RUNS.run_many, list(rows))
