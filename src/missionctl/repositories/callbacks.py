"""HTTP agents' pending callbacks (ADR 0061): open, redeem once, read the answer."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import HttpCallback


async def read_callback_by_hash(session: AsyncSession, *, token_hash: str) -> HttpCallback | None:
    """The callback whose token hashes to ``token_hash``, or ``None``."""
    return await session.scalar(select(HttpCallback).where(HttpCallback.token_hash == token_hash))


async def redeem_callback(
    session: AsyncSession, *, callback_id: uuid.UUID, now: datetime, result: dict[str, Any]
) -> bool:
    """Store ``result`` and mark the callback used if it is unused and unexpired at ``now``.

    One conditional UPDATE, so of two concurrent redemptions exactly one wins on either
    database. Returns whether this call won.
    """
    statement = (
        update(HttpCallback)
        .where(
            HttpCallback.id == callback_id,
            HttpCallback.used_at.is_(None),
            HttpCallback.expires_at > now,
        )
        .values(used_at=now, result=result)
        .execution_options(synchronize_session=False)
    )
    outcome = cast("CursorResult[Any]", await session.execute(statement))
    return outcome.rowcount == 1


async def read_callback_result(
    session: AsyncSession, *, callback_id: uuid.UUID
) -> dict[str, Any] | None:
    """The answer stored for the callback, or ``None`` while none has arrived."""
    query = select(HttpCallback.result).where(
        HttpCallback.id == callback_id, HttpCallback.used_at.is_not(None)
    )
    return cast("dict[str, Any] | None", await session.scalar(query))
