"""Document studio queries: a mission's document versions, the latest of a kind, one version."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from missionctl.db.models import Document


async def next_version(session: AsyncSession, *, mission_id: uuid.UUID, kind: str) -> int:
    """The version the next ``kind`` document of the mission takes (1 for the first)."""
    query = select(func.max(Document.version)).where(
        Document.mission_id == mission_id, Document.kind == kind
    )
    return int(await session.scalar(query) or 0) + 1


async def read_versions(session: AsyncSession, *, mission_id: uuid.UUID) -> Sequence[Document]:
    """Every document version of the mission, by kind, newest version first."""
    query = (
        select(Document)
        .where(Document.mission_id == mission_id)
        .order_by(Document.kind, Document.version.desc())
        .options(defer(Document.body), defer(Document.diagrams))
    )
    return (await session.scalars(query)).all()


async def read_document(
    session: AsyncSession, *, mission_id: uuid.UUID, kind: str, version: int | None
) -> Document | None:
    """Version ``version`` of the mission's ``kind`` document (default: the latest), or None."""
    query = select(Document).where(Document.mission_id == mission_id, Document.kind == kind)
    if version is None:
        query = query.order_by(Document.version.desc()).limit(1)
    else:
        query = query.where(Document.version == version)
    return await session.scalar(query)


async def read_newest_diagrams(
    session: AsyncSession, *, mission_id: uuid.UUID, kind: str, plan_version: int
) -> dict[str, Any] | None:
    """The diagrams kept by the newest ``kind`` document written from ``plan_version``, if any."""
    query = (
        select(Document.diagrams)
        .where(
            Document.mission_id == mission_id,
            Document.kind == kind,
            Document.plan_version == plan_version,
        )
        .order_by(Document.version.desc())
        .limit(1)
    )
    return await session.scalar(query)
