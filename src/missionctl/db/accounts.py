"""ORM classes for who may act: users, their API tokens, sign-in links and browser sessions.

Only digests of secrets are stored (a token's, a link's, a session cookie's SHA-256; a
password's argon2id hash). Users are disabled, never deleted.
"""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from missionctl.db.base import Base, created_column, id_column, updated_column


class User(Base):
    """A person who signs in. ``name`` is a lower-case slug; the actor ``user:NAME`` names them.

    ``password_hash`` is an argon2id PHC string, or null for a user who signs in by one-time link
    only. Users are disabled, never deleted, so that the event log's actors keep meaning someone.
    """

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    last_sign_in_at: Mapped[datetime | None]
    # Moves on when all of the user's browser sessions end at once (ADR 0077): a session made
    # under an older generation lets no one in, whatever its own row says.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class ApiToken(Base):
    """An API token of a user. Only the SHA-256 of its secret is kept (the secret is shown once).

    Names are unique across all tokens ever made (revoked ones stay as rows), so the actor
    ``token:NAME`` in the event log always means one token.
    """

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(63), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role_ceiling: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()


class SignInLink(Base):
    """A one-time, short-lived sign-in link; only the SHA-256 of its secret is kept."""

    __tablename__ = "sign_in_links"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_column()


class BrowserSession(Base):
    """A signed-in browser (ADR 0077): the cookie holds a random secret, this row its SHA-256.

    A session lets its user in while ``revoked_at`` is null, its ``generation`` equals the
    user's ``session_generation``, the user is enabled and it is younger than the session
    lifetime. ``last_seen_at`` is bookkeeping, written at most once a minute.
    """

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    generation: Mapped[int]
    created_at: Mapped[datetime] = created_column()
    last_seen_at: Mapped[datetime] = created_column()
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    revoked_at: Mapped[datetime | None]
