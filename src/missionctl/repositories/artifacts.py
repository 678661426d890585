"""Artifact queries: the artifacts of a run or mission, with the step that produced each.

The names already taken in runs are read by the engine's blocking transaction and by the async
services alike: one implementation (``read_names_by_run``), which the async services run on
their session's connection through ``AsyncSession.run_sync``.
"""

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Artifact, StepRun


async def read_run_artifacts(
    session: AsyncSession, *, run_id: uuid.UUID, kind: str | None = None
) -> Sequence[Artifact]:
    """The run's artifacts (of ``kind``, when given), oldest first."""
    query = select(Artifact).where(Artifact.run_id == run_id)
    if kind is not None:
        query = query.where(Artifact.kind == kind)
    return (await session.scalars(query.order_by(Artifact.id))).all()


def _with_step() -> Select[Artifact, str]:
    return select(Artifact, StepRun.step_id).outerjoin(StepRun, StepRun.id == Artifact.step_run_id)


async def read_artifacts_with_steps(
    session: AsyncSession,
    *,
    limit: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> list[tuple[Artifact, str | None]]:
    """Up to ``limit`` artifacts, oldest first, each with its step's id (``None``: no step).

    Filtered by mission and by run when given one (``None``: no filter).
    """
    query = _with_step()
    if mission_id is not None:
        query = query.where(Artifact.mission_id == mission_id)
    if run_id is not None:
        query = query.where(Artifact.run_id == run_id)
    rows = (await session.execute(query.order_by(Artifact.id).limit(limit))).all()
    return [(artifact, step_id) for artifact, step_id in rows]


async def read_artifact_with_step(
    session: AsyncSession, *, artifact_id: uuid.UUID
) -> tuple[Artifact, str | None] | None:
    """The artifact and its step's id (``None``: no step), or ``None`` when there is none."""
    row = (await session.execute(_with_step().where(Artifact.id == artifact_id))).first()
    return None if row is None else (row[0], row[1])


async def read_step_artifact(
    session: AsyncSession, *, run_id: uuid.UUID, step_id: str, kind: str
) -> Artifact | None:
    """The newest artifact of ``kind`` that step ``step_id`` of ``run_id`` produced, if any."""
    query = (
        select(Artifact)
        .join(StepRun, StepRun.id == Artifact.step_run_id)
        .where(Artifact.run_id == run_id, StepRun.step_id == step_id, Artifact.kind == kind)
        .order_by(Artifact.created_at.desc(), Artifact.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


def read_names_by_run(
    session: Session, *, run_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    """``run → the names its artifacts have``, for each of ``run_ids`` (an empty set: none)."""
    taken: dict[uuid.UUID, set[str]] = {run_id: set() for run_id in run_ids}
    query = select(Artifact.run_id, Artifact.name).where(Artifact.run_id.in_(list(taken)))
    for run_id, name in session.execute(query):
        if run_id is not None:
            taken[run_id].add(name)
    return taken


async def read_run_names(session: AsyncSession, *, run_id: uuid.UUID) -> set[str]:
    """The names the run's artifacts have (``read_names_by_run`` for one run)."""
    return (await session.run_sync(read_names_by_run, run_ids=[run_id]))[run_id]
