"""Run and step-run reads for the (async) services.

The engine's hot path has blocking twins of these in ``repositories.execution``; both build
their statements here so that the two can never disagree on what they ask.
"""

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Run, StepRun, Workflow
from missionctl.domain.states import StepRunStatus

# The states of a step that still has work ahead of it (``blocked`` waits for a person).
ACTIVE_STEP_STATUSES = tuple(
    s.value
    for s in (
        StepRunStatus.waiting,
        StepRunStatus.queued,
        StepRunStatus.running,
        StepRunStatus.awaiting_approval,
    )
)


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
