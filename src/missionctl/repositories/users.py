"""User, API token and sign-in link queries."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.accounts import ApiToken, SignInLink, User
from missionctl.domain.access import NAME_PATTERN


async def read_user_by_name(session: AsyncSession, *, name: str) -> User | None:
    """The user called ``name``, or ``None``.

    A name no user can have (``NAME_PATTERN``) names nobody without a query: what a stranger
    types (a sign-in name, a NUL that PostgreSQL refuses to compare) never reaches the database.
    """
    if NAME_PATTERN.fullmatch(name) is None:
        return None
    return await session.scalar(select(User).where(User.name == name))


async def read_users(session: AsyncSession) -> list[User]:
    """Every user, by name."""
    return list((await session.scalars(select(User).order_by(User.name))).all())


async def lock_enabled_users(session: AsyncSession, *, role: str) -> list[str]:
    """Names of the enabled users with ``role``, locked until the transaction ends.

    Lets a service keep "at least one enabled admin" true under concurrent changes: PostgreSQL
    locks the rows (``FOR UPDATE``); SQLite's write transaction already excludes other writers.
    """
    query = (
        select(User.name)
        .where(User.disabled.is_(False), User.role == role)
        .order_by(User.name)
        .with_for_update()
    )
    return list((await session.scalars(query)).all())


async def read_token_by_name(session: AsyncSession, *, name: str) -> ApiToken | None:
    """The API token called ``name`` (revoked or not), or ``None``."""
    return await session.scalar(select(ApiToken).where(ApiToken.name == name))


async def read_token_with_owner(
    session: AsyncSession, *, token_hash: str
) -> tuple[ApiToken, User] | None:
    """The token whose secret hashes to ``token_hash``, with its owner, or ``None``."""
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def read_tokens(
    session: AsyncSession, *, user_id: uuid.UUID | None = None
) -> list[tuple[ApiToken, str]]:
    """Tokens (of ``user_id``, when given) with their owner's name, newest first."""
    query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    rows = (await session.execute(query.order_by(ApiToken.id.desc()))).all()
    return [(row[0], row[1]) for row in rows]


async def mark_token_used(
    session: AsyncSession, *, token_id: uuid.UUID, now: datetime, not_since: datetime
) -> None:
    """Set ``last_used_at = now`` unless it is already later than ``not_since`` (throttled)."""
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < not_since),
        )
        .values(last_used_at=now)
    )


async def read_sign_in_link_with_owner(
    session: AsyncSession, *, token_hash: str
) -> tuple[SignInLink, User] | None:
    """The sign-in link whose secret hashes to ``token_hash``, with its user, or ``None``."""
    row = (
        await session.execute(
            select(SignInLink, User)
            .join(User, User.id == SignInLink.user_id)
            .where(SignInLink.token_hash == token_hash)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def claim_sign_in_link(session: AsyncSession, *, link_id: uuid.UUID, now: datetime) -> bool:
    """Mark the link used if it is unused and unexpired at ``now``; whether this call did.

    One conditional UPDATE, so of two concurrent redemptions exactly one wins on either database.
    """
    statement = (
        update(SignInLink)
        .where(
            SignInLink.id == link_id,
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[Any]", await session.execute(statement))
    return result.rowcount == 1
