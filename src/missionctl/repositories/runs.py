"""Run reads for the async services: the engine's own queries, on an async session.

Each query has one implementation, in ``repositories.execution`` (blocking, as the engine's
writer thread runs it); an async service runs the same function on its session's connection
through ``AsyncSession.run_sync``, so the two can never disagree on what they ask.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Run, StepRun, Workflow
from missionctl.repositories import execution


async def read_run(session: AsyncSession, *, run_id: uuid.UUID) -> Run | None:
    """The run as stored now (reloaded if the session already holds it), or ``None``."""
    return await session.get(Run, run_id, populate_existing=True)


async def read_step_runs(session: AsyncSession, *, run_id: uuid.UUID) -> list[StepRun]:
    """Every step run of a run, in creation (definition) order (``execution.read_step_runs``)."""
    return await session.run_sync(execution.read_step_runs, run_id=run_id)


async def read_workflow(session: AsyncSession, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version, or ``None`` (``execution.read_workflow``)."""
    return await session.run_sync(execution.read_workflow, workflow_id=workflow_id)
