"""Browser session queries (ADR 0077) and the recent failed sign-ins admins look at."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.accounts import BrowserSession, User
from missionctl.db.models import Event


async def read_session_with_user(
    session: AsyncSession, *, secret_hash: str
) -> tuple[BrowserSession, User] | None:
    """The session whose secret hashes to ``secret_hash``, with its user, or ``None``.

    One read through the unique index on ``secret_hash``: what every signed-in request costs.
    """
    row = (
        await session.execute(
            select(BrowserSession, User)
            .join(User, User.id == BrowserSession.user_id)
            .where(BrowserSession.secret_hash == secret_hash)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def read_session(session: AsyncSession, *, session_id: uuid.UUID) -> BrowserSession | None:
    """The session with ``session_id``, or ``None``."""
    return await session.get(BrowserSession, session_id)


async def mark_session_seen(
    session: AsyncSession, *, session_id: uuid.UUID, now: datetime, not_since: datetime
) -> None:
    """Set ``last_seen_at = now`` unless it is already later than ``not_since`` (throttled)."""
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == session_id, BrowserSession.last_seen_at < not_since)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


async def read_user_sessions(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int
) -> list[BrowserSession]:
    """The newest ``limit`` sessions of ``user_id`` (revoked ones included), newest first."""
    query = (
        select(BrowserSession)
        .where(BrowserSession.user_id == user_id)
        .order_by(BrowserSession.created_at.desc(), BrowserSession.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def revoke_sessions(
    session: AsyncSession, *, now: datetime, user_id: uuid.UUID | None = None
) -> int:
    """Mark the live sessions of ``user_id`` (``None``: of everyone) revoked; how many were."""
    statement = update(BrowserSession).where(BrowserSession.revoked_at.is_(None))
    if user_id is not None:
        statement = statement.where(BrowserSession.user_id == user_id)
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            statement.values(revoked_at=now).execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount


async def advance_every_generation(session: AsyncSession) -> None:
    """Move every user's ``session_generation`` on: every session made before stops working."""
    await session.execute(
        update(User)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )


async def read_events_of_type(session: AsyncSession, *, type_: str, limit: int) -> list[Event]:
    """The newest ``limit`` events of type ``type_``, newest first (the index on ``type``)."""
    query = select(Event).where(Event.type == type_).order_by(Event.seq.desc()).limit(limit)
    return list((await session.scalars(query)).all())
