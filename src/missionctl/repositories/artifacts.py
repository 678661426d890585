"""Artifact queries: the artifacts of a run, all of them or of one kind, oldest first."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Artifact


async def read_run_artifacts(
    session: AsyncSession, *, run_id: uuid.UUID, kind: str | None = None
) -> Sequence[Artifact]:
    """The run's artifacts (of ``kind``, when given), oldest first."""
    query = select(Artifact).where(Artifact.run_id == run_id)
    if kind is not None:
        query = query.where(Artifact.kind == kind)
    return (await session.scalars(query.order_by(Artifact.id))).all()
