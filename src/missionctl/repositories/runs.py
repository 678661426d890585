"""Run reads and locks for the async services.

A query the engine asks too has one implementation, in ``repositories.execution`` (blocking,
as the engine's writer thread runs it); an async service runs the same function on its
session's connection through ``AsyncSession.run_sync``, so the two can never disagree on what
they ask. The queries below those are the services' alone.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Artifact, Run, StepRun, Workflow
from missionctl.repositories import execution


async def read_run(session: AsyncSession, *, run_id: uuid.UUID) -> Run | None:
    """The run as stored now (reloaded if the session already holds it), or ``None``."""
    return await session.get(Run, run_id, populate_existing=True)


async def read_workflow_names(
    session: AsyncSession, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The name of the workflow each of ``run_ids`` runs, by run id (unknown ids left out)."""
    if not run_ids:
        return {}
    query = (
        select(Run.id, Workflow.name)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.id.in_(set(run_ids)))
    )
    return {row[0]: row[1] for row in await session.execute(query)}


async def read_step_runs(session: AsyncSession, *, run_id: uuid.UUID) -> list[StepRun]:
    """Every step run of a run, in creation (definition) order (``execution.read_step_runs``)."""
    return await session.run_sync(execution.read_step_runs, run_id=run_id)


async def read_workflow(session: AsyncSession, *, workflow_id: uuid.UUID) -> Workflow | None:
    """The workflow version, or ``None`` (``execution.read_workflow``)."""
    return await session.run_sync(execution.read_workflow, workflow_id=workflow_id)


async def compiled_from_plan(session: AsyncSession, *, workflow_id: uuid.UUID) -> bool:
    """Whether the workflow version was compiled from a plan (its runs' steps are tasks)."""
    query = select(Workflow.plan_id).where(Workflow.id == workflow_id)
    return (await session.scalar(query)) is not None


async def read_runs_in_status(
    session: AsyncSession, *, run_ids: Collection[uuid.UUID], statuses: Collection[str]
) -> set[uuid.UUID]:
    """Which of ``run_ids`` are in one of ``statuses`` now."""
    query = select(Run.id).where(Run.id.in_(list(run_ids)), Run.status.in_(statuses))
    return set((await session.scalars(query)).all())


async def read_unreported_runs(
    session: AsyncSession,
    *,
    statuses: Collection[str],
    kind: str,
    created_after: datetime,
    ended_before: datetime,
    limit: int,
) -> list[uuid.UUID]:
    """Runs in one of ``statuses`` with no artifact of ``kind`` made since they ended.

    Only runs created after ``created_after`` (the bound keeps the read on ``ix_runs_created_at``)
    and ended before ``ended_before``; at most ``limit``, oldest first.
    """
    reported = select(Artifact.id).where(
        Artifact.run_id == Run.id, Artifact.kind == kind, Artifact.created_at >= Run.ended_at
    )
    query = (
        select(Run.id)
        .where(
            Run.created_at > created_after,
            Run.status.in_(statuses),
            Run.ended_at <= ended_before,
            ~reported.exists(),
        )
        .order_by(Run.created_at)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def lock_runs_in_status(session: AsyncSession, *, statuses: Collection[str]) -> Sequence[Run]:
    """Every run in one of ``statuses``, oldest first, locked (``FOR UPDATE``)."""
    query = select(Run).where(Run.status.in_(statuses)).order_by(Run.id).with_for_update()
    return (await session.scalars(query)).all()


async def lock_run_keys(
    session: AsyncSession, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID | None]:
    """Lock the keys of the runs of ``run_ids``; ``run → mission`` for those locked.

    Each run's row is read under a key-share lock (``FOR KEY SHARE``, what a foreign key to it
    takes), held until commit; runs another transaction locks more strongly are skipped
    (``SKIP LOCKED``) and left out.
    """
    query = (
        select(Run.id, Run.mission_id)
        .where(Run.id.in_(run_ids))
        .with_for_update(key_share=True, read=True, skip_locked=True)
    )
    return dict((await session.execute(query)).all())
