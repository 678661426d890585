"""Price queries: the admins' overrides of model prices (``model_prices``), kept as history.

The override in force is read by the engine's blocking transaction and by the async services
alike: one implementation (``read_override``), blocking, which an async service runs on its
session's connection through ``AsyncSession.run_sync``.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import ModelPrice


def read_override(session: Session, *, model: str, at: datetime) -> ModelPrice | None:
    """The override of ``model`` in force at ``at``: the newest effective then, or ``None``."""
    query = (
        select(ModelPrice)
        .where(ModelPrice.model == model, ModelPrice.effective_from <= at)
        .order_by(ModelPrice.effective_from.desc())
        .limit(1)
    )
    return session.scalar(query)


async def read_overridden_models(session: AsyncSession) -> Sequence[str]:
    """Every model that has (or had) an override, each once, in no particular order."""
    return (await session.scalars(select(ModelPrice.model).distinct())).all()
