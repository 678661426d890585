"""Users, passwords and API tokens (ADR 0010).

Passwords are kept as argon2id hashes; API tokens as the SHA-256 of a secret that is returned
once, by the call that makes it, and never stored or logged. Every change appends an event
whose payload names users and tokens but never carries a password, a hash or a secret. Hashing
runs on a worker thread so that a sign-in does not stall the event loop. One-time sign-in links
and the first start live in ``sign_in_links``, which builds on the helpers here.
"""

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.accounts import ApiToken, User
from missionctl.db.faults import database_fault
from missionctl.db.types import utcnow
from missionctl.domain import access
from missionctl.domain.access import Identity, Role, ceiling
from missionctl.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import users as repo
from missionctl.schemas.identity import (
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.passwords import password_problem
from missionctl.services.usecases.sessions import add_session, end_user_sessions

__all__ = [
    "TOKEN_PREFIX",
    "Identity",
    "SessionOrigin",
    "authenticate_token",
    "change_own_password",
    "create_own_token",
    "create_token",
    "create_user",
    "disable_user",
    "identity_of_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "read_user",
    "record_denial",
    "record_sign_in_failure",
    "revoke_own_token",
    "revoke_token",
    "set_password",
    "set_role",
    "sign_in_with_password",
    "verify_password",
]

TOKEN_PREFIX = "mc_"
# 32 random bytes (256 bits), URL-safe base64: 43 characters after the prefix.
_SECRET_BYTES = 32
SECRET_MAX_CHARS = 200
"""The longest secret a lookup accepts: a longer one is refused before it is hashed."""
# The prefix shown in lists: "mc_" and five characters of the secret (~30 of its 256 bits).
_LIST_PREFIX_CHARS = 8
# last_used_at is bookkeeping, not history: written at most once a minute per token, and not
# as an event, so that API traffic neither floods the log nor takes the write lock per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# argon2id with the library's defaults (RFC 9106 low-memory profile). Changing them later is
# safe: verify_password rehashes a stored hash whose parameters differ on the next sign-in.
_hasher = PasswordHasher()


def sha256(secret: str) -> str:
    """The SHA-256 of ``secret``, in hex: what is stored in place of a token's or link's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A new secret: ``prefix`` and 32 random bytes, URL-safe base64. Shown once, never stored."""
    return prefix + secrets.token_urlsafe(_SECRET_BYTES)


@cache
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so that a wrong name costs as much time
    # as a wrong password and sign-in timing does not reveal which names exist.
    return _hasher.hash(secrets.token_urlsafe(16))


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: SecretStr, *, user_name: str) -> str:
    """The password's text, when its length and ``usecases.passwords`` accept it for the user.

    Raises:
        ValidationFailed: too short, too long, common, repetitive or containing the user's name
            (field ``password``, the message saying which).
    """
    value = password.get_secret_value()
    if not PASSWORD_MIN_CHARS <= len(value) <= PASSWORD_MAX_CHARS:
        problem: str | None = (
            f"must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters long"
        )
    else:
        problem = password_problem(value, user_name=user_name)
    if problem is not None:
        raise ValidationFailed([Problem("password", problem)])
    return value


def _user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        name=user.name,
        display_name=user.display_name,
        role=Role(user.role),
        disabled=user.disabled,
        has_password=user.password_hash is not None,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_sign_in_at=user.last_sign_in_at,
    )


def _token_read(token: ApiToken, user_name: str) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        user_name=user_name,
        prefix=token.prefix,
        role_ceiling=Role(token.role_ceiling),
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
        created_at=token.created_at,
    )


async def user_or_404(session: AsyncSession, name: str, *, field: str = "name") -> User:
    """The user called ``name``, disabled or not.

    Raises:
        NotFound: no user is called ``name`` (``field`` names the field at fault).
    """
    user = await repo.read_user_by_name(session, name=name)
    if user is None:
        raise NotFound(f"no user is called {name!r}", field=field)
    return user


async def _keep_an_admin(session: AsyncSession, user: User, *, field: str) -> None:
    """Refuse a change that would leave no enabled admin (nobody could administer again)."""
    if user.role != Role.ADMIN or user.disabled:
        return
    admins = await repo.lock_enabled_users(session, role=Role.ADMIN)
    if admins == [user.name]:
        raise Conflict(
            f"{user.name!r} is the only enabled admin; make another user admin first",
            field=field,
        )


async def create_user(ctx: ServiceContext, *, data: UserCreate, actor: str) -> UserRead:
    """Create a user; the password, if any, is stored only as an argon2id hash.

    Raises:
        Conflict: a user with that name exists (field ``name``).
    """
    password_hash = None
    if data.password is not None:
        password = _check_password(data.password, user_name=data.name)
        password_hash = await asyncio.to_thread(_hasher.hash, password)
    user = User(
        name=data.name,
        display_name=data.display_name,
        role=data.role.value,
        password_hash=password_hash,
        disabled=False,
    )
    conflict = Conflict(f"a user called {data.name!r} already exists", field="name")
    try:
        async with ctx.write() as session:
            if await repo.read_user_by_name(session, name=data.name) is not None:
                raise conflict
            session.add(user)
            await session.flush()
            await append(
                session,
                [
                    NewEvent(
                        type=access.USER_CREATED,
                        actor=actor,
                        payload={
                            "user_id": str(user.id),
                            "name": user.name,
                            "display_name": user.display_name,
                            "role": user.role,
                            "has_password": password_hash is not None,
                        },
                    )
                ],
            )
            result = _user_read(user)
    except IntegrityError as exc:  # a concurrent create of the same name won the race
        raise conflict from exc
    return result


async def read_user(ctx: ServiceContext, *, name: str) -> UserRead:
    """The user called ``name``.

    Raises:
        NotFound: no such user (field ``name``).
    """
    async with ctx.read() as session:
        return _user_read(await user_or_404(session, name))


async def list_users(ctx: ServiceContext) -> list[UserRead]:
    """Every user (disabled ones included), by name."""
    async with ctx.read() as session:
        return [_user_read(user) for user in await repo.read_users(session)]


async def set_role(ctx: ServiceContext, *, name: str, role: Role, actor: str) -> UserRead:
    """Give ``name`` the role ``role``; their tokens follow at once (capped by the new role).

    A change ends every browser session of the user (they sign in again under the new role).

    Raises:
        NotFound: no such user (field ``name``).
        Conflict: it would demote the only enabled admin (field ``role``).
    """
    async with ctx.write() as session:
        user = await user_or_404(session, name)
        previous = user.role
        if previous != role.value:
            await _keep_an_admin(session, user, field="role")
            user.role = role.value
            user.updated_at = utcnow()
            ended = await end_user_sessions(session, user=user, now=user.updated_at)
            payload = {"name": user.name, "from": previous, "to": role.value}
            await append(
                session,
                [
                    NewEvent(
                        type=access.USER_ROLE_CHANGED,
                        actor=actor,
                        payload={**payload, "sessions_ended": ended},
                    )
                ],
            )
        await session.flush()
        return _user_read(user)


async def disable_user(ctx: ServiceContext, *, name: str, actor: str) -> UserRead:
    """Disable ``name``: their password, tokens, sign-in links and sessions stop working at once.

    Disabling a disabled user changes nothing (and appends no event).

    Raises:
        NotFound: no such user (field ``name``).
        Conflict: it is the only enabled admin (field ``name``).
    """
    async with ctx.write() as session:
        user = await user_or_404(session, name)
        if not user.disabled:
            await _keep_an_admin(session, user, field="name")
            user.disabled = True
            user.updated_at = utcnow()
            ended = await end_user_sessions(session, user=user, now=user.updated_at)
            payload = {"name": user.name, "sessions_ended": ended}
            await append(
                session, [NewEvent(type=access.USER_DISABLED, actor=actor, payload=payload)]
            )
        await session.flush()
        return _user_read(user)


async def set_password(
    ctx: ServiceContext, *, name: str, password: SecretStr, actor: str
) -> UserRead:
    """Set (or replace) the password of ``name``, stored as an argon2id hash.

    Every browser session of the user ends: a session opened with the old password (perhaps by
    whoever learned it) does not outlive it.

    Raises:
        ValidationFailed: the password is too short, too long, common, repetitive or contains
            the user's name (field ``password``).
        NotFound: no such user (field ``name``).
    """
    value = _check_password(password, user_name=name)
    password_hash = await asyncio.to_thread(_hasher.hash, value)
    async with ctx.write() as session:
        user = await user_or_404(session, name)
        user.password_hash = password_hash
        user.updated_at = utcnow()
        ended = await end_user_sessions(session, user=user, now=user.updated_at)
        payload = {"name": user.name, "sessions_ended": ended}
        await append(
            session, [NewEvent(type=access.USER_PASSWORD_SET, actor=actor, payload=payload)]
        )
        await session.flush()
        return _user_read(user)


async def verify_password(ctx: ServiceContext, *, name: str, password: str) -> UserRead | None:
    """The user if ``password`` is theirs, else ``None`` (never says which part was wrong).

    Unknown names, users without a password and disabled users cost one argon2 verification
    like a wrong password does. On success ``last_sign_in_at`` is set, a ``user.signed_in`` event
    is appended, and a hash made with older parameters is replaced by a current one. Rate limits
    are the caller's (``domain.access.RateLimiter``): check before calling, hit after ``None``.
    """
    found = await _check_password_sign_in(ctx, name=name, password=password, origin=None)
    return None if found is None else found[0]


@dataclass(frozen=True, slots=True)
class SessionOrigin:
    """Where a browser signs in from, as its sessions list shows it."""

    address: str | None
    user_agent: str


async def sign_in_with_password(
    ctx: ServiceContext, *, name: str, password: str, origin: SessionOrigin
) -> tuple[UserRead, str] | None:
    """``verify_password``, and the browser session it opens: the user and the session's secret.

    The session is added in the transaction that accepts the password: a new password (or role,
    or disabling) committed after the check ends it too, and one committed before the check
    made the check fail. ``None`` as ``verify_password``.
    """
    found = await _check_password_sign_in(ctx, name=name, password=password, origin=origin)
    if found is None or found[1] is None:
        return None
    return found[0], found[1]


async def _check_password_sign_in(
    ctx: ServiceContext, *, name: str, password: str, origin: SessionOrigin | None
) -> tuple[UserRead, str | None] | None:
    """The user and, with ``origin``, a new session's secret; see ``verify_password``."""
    name = name.strip().lower()
    async with ctx.read() as session:
        user = await repo.read_user_by_name(session, name=name)
        stored = None if user is None or user.disabled else user.password_hash
        user_id = None if user is None else user.id
    if stored is None or user_id is None or len(password) > PASSWORD_MAX_CHARS:
        await asyncio.to_thread(_password_matches, _dummy_hash(), password)
        return None
    if not await asyncio.to_thread(_password_matches, stored, password):
        return None
    rehashed = None
    if _hasher.check_needs_rehash(stored):
        rehashed = await asyncio.to_thread(_hasher.hash, password)
    async with ctx.write() as session:
        user = await session.get(User, user_id)
        # Changed while we were hashing (disabled, or the password replaced): refuse.
        if user is None or user.disabled or user.password_hash != stored:
            return None
        user.last_sign_in_at = utcnow()
        if rehashed is not None:
            user.password_hash = rehashed
        secret = None
        if origin is not None:
            secret = add_session(
                session, user=user, address=origin.address, user_agent=origin.user_agent
            )
        event = NewEvent(
            type=access.USER_SIGNED_IN,
            actor=f"user:{user.name}",
            payload={"name": user.name, "method": "password"},
        )
        await append(session, [event])
        await session.flush()
        return _user_read(user), secret


WRONG_CURRENT_PASSWORD: Final = "is not your current password; type the one you sign in with"


async def change_own_password(
    ctx: ServiceContext,
    *,
    name: str,
    current: SecretStr | None,
    new: SecretStr,
    origin: SessionOrigin | None,
    actor: str,
) -> tuple[UserRead, str | None]:
    """A person replaces their own password: ``current`` must be theirs, if they have one.

    A user without a password (one who signed in by one-time link, such as the first admin)
    sets one without ``current``. As ``set_password``, every browser session of the user ends;
    with ``origin``, the transaction that stores the new password opens a session for the
    browser that asked, whose secret is returned (else ``None``). Rate limits are the caller's,
    as for a sign-in: a wrong ``current`` is a failed sign-in (field ``current_password``).

    Raises:
        ValidationFailed: ``current`` is missing or wrong (field ``current_password``), or the
            new password is refused as ``set_password`` refuses it (field ``password``).
        NotFound: no such user (field ``name``).
        Conflict: the password changed meanwhile, or the user was disabled (field ``name``).
    """
    async with ctx.read() as session:
        stored = (await user_or_404(session, name)).password_hash
    if stored is not None:
        typed = "" if current is None else current.get_secret_value()
        matches = bool(typed) and len(typed) <= PASSWORD_MAX_CHARS
        if not matches or not await asyncio.to_thread(_password_matches, stored, typed):
            raise ValidationFailed([Problem("current_password", WRONG_CURRENT_PASSWORD)])
    value = _check_password(new, user_name=name)
    password_hash = await asyncio.to_thread(_hasher.hash, value)
    async with ctx.write() as session:
        user = await user_or_404(session, name)
        if user.disabled or user.password_hash != stored:
            raise Conflict(
                f"{name!r} was disabled or got a new password meanwhile; reload and try again",
                field="name",
            )
        user.password_hash = password_hash
        user.updated_at = utcnow()
        ended = await end_user_sessions(session, user=user, now=user.updated_at)
        await session.flush()  # the new generation, which the new session carries
        secret = None
        if origin is not None:
            secret = add_session(
                session, user=user, address=origin.address, user_agent=origin.user_agent
            )
        payload = {"name": user.name, "sessions_ended": ended}
        await append(
            session, [NewEvent(type=access.USER_PASSWORD_SET, actor=actor, payload=payload)]
        )
        await session.flush()
        return _user_read(user), secret


async def create_token(
    ctx: ServiceContext,
    *,
    user_name: str,
    name: str,
    role_ceiling: Role | None = None,
    expires_in: timedelta | None = None,
    actor: str,
) -> tuple[TokenRead, str]:
    """Make an API token for ``user_name``; returns it and its secret, which is shown only now.

    Only the secret's SHA-256 is stored. The token acts with the lower of its owner's role and
    ``role_ceiling`` (default: the owner's role at the time of use).

    Raises:
        ValidationFailed: ``name`` is not a slug, ``role_ceiling`` is above the owner's role, or
            ``expires_in`` is not positive (each reported by its field).
        NotFound: no such user (field ``user_name``).
        Conflict: the owner is disabled (field ``user_name``), or a token of that name exists or
            existed (field ``name``; names are never reused, so ``token:NAME`` stays unambiguous).
    """
    problems: list[Problem] = []
    if not access.is_valid_name(name):
        problems.append(Problem("name", "must be a lower-case slug (a-z, 0-9, '.', '_', '-')"))
    if expires_in is not None and expires_in <= timedelta(0):
        problems.append(Problem("expires_in", "must be positive; omit it for no expiry"))
    if problems:
        raise ValidationFailed(problems)
    secret = new_secret(TOKEN_PREFIX)
    conflict = Conflict(f"a token called {name!r} exists or existed; pick another", field="name")
    try:
        async with ctx.write() as session:
            owner = await user_or_404(session, user_name, field="user_name")
            if owner.disabled:
                raise Conflict(f"{user_name!r} is disabled", field="user_name")
            owner_role = Role(owner.role)
            if role_ceiling is not None and access.rank(role_ceiling) > access.rank(owner_role):
                raise ValidationFailed(
                    [
                        Problem(
                            "role_ceiling",
                            f"must not be above the owner's role ({owner_role.value})",
                        )
                    ]
                )
            if await repo.read_token_by_name(session, name=name) is not None:
                raise conflict
            now = utcnow()
            token = ApiToken(
                user_id=owner.id,
                name=name,
                prefix=secret[:_LIST_PREFIX_CHARS],
                token_hash=sha256(secret),
                role_ceiling=(role_ceiling or owner_role).value,
                expires_at=None if expires_in is None else now + expires_in,
                created_at=now,
            )
            session.add(token)
            await session.flush()
            await append(
                session,
                [
                    NewEvent(
                        type=access.TOKEN_CREATED,
                        actor=actor,
                        payload={
                            "token_id": str(token.id),
                            "name": token.name,
                            "user_name": owner.name,
                            "role_ceiling": token.role_ceiling,
                            "expires_at": iso(token.expires_at),
                        },
                    )
                ],
            )
            result = _token_read(token, owner.name)
    except IntegrityError as exc:  # a concurrent create of the same name won the race
        raise conflict from exc
    return result, secret


async def issue_token(ctx: ServiceContext, *, data: TokenCreate, actor: str) -> TokenCreated:
    """Make the token ``data`` asks for; the answer carries its secret, shown only this once.

    ``create_token`` as the API asks it: the expiry in days, the secret beside the token.

    Raises:
        ValidationFailed, NotFound, Conflict: as ``create_token``.
    """
    expires = None if data.expires_in_days is None else timedelta(days=data.expires_in_days)
    token, secret = await create_token(
        ctx,
        user_name=data.user_name,
        name=data.name,
        role_ceiling=data.role_ceiling,
        expires_in=expires,
        actor=actor,
    )
    return TokenCreated(token=token, secret=secret)


async def create_own_token(
    ctx: ServiceContext,
    *,
    who: Identity,
    name: str,
    role_ceiling: Role | None = None,
    expires_in: timedelta | None = None,
) -> tuple[TokenRead, str]:
    """``create_token`` for the person who asks: never above the role they act with now.

    A person signed in with a token of a lower ceiling cannot mint one above it. The default
    ceiling is ``who.role``.

    Raises:
        ValidationFailed: ``role_ceiling`` is above ``who.role`` (field ``role_ceiling``), or
            as ``create_token``.
        NotFound, Conflict: as ``create_token``.
    """
    if not who.user_name:
        raise ValidationFailed([Problem("user_name", "only a user may hold API tokens")])
    if role_ceiling is not None and access.rank(role_ceiling) > access.rank(who.role):
        raise ValidationFailed(
            [Problem("role_ceiling", f"must not be above your role ({who.role.value})")]
        )
    return await create_token(
        ctx,
        user_name=who.user_name,
        name=name,
        role_ceiling=role_ceiling or who.role,
        expires_in=expires_in,
        actor=who.actor,
    )


async def revoke_own_token(ctx: ServiceContext, *, who: Identity, name: str) -> TokenRead:
    """``revoke_token`` for the token's owner: someone else's token is as unknown as none.

    Raises:
        NotFound: no token of ``who``'s is called ``name`` (field ``name``).
    """
    async with ctx.read() as session:
        found = await repo.read_token_by_name(session, name=name)
        owner = None if found is None else await session.get(User, found.user_id)
    if owner is None or owner.name != who.user_name:
        raise NotFound(f"you have no token called {name!r}", field="name")
    return await revoke_token(ctx, name=name, actor=who.actor)


def iso(value: datetime | None) -> str | None:
    """``value`` in ISO 8601, as event payloads carry times; ``None`` stays ``None``."""
    return None if value is None else value.isoformat()


async def authenticate_token(ctx: ServiceContext, *, secret: str) -> Identity | None:
    """The identity of the API token ``secret``, or ``None`` if it does not let anyone in.

    ``None`` for an unknown, revoked or expired token, or one whose owner is disabled; each
    holds from the moment it is committed. The identity's role is the lower of the owner's
    current role and the token's ceiling. ``last_used_at`` is updated (at most once a minute).
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > SECRET_MAX_CHARS:
        return None
    now = utcnow()
    async with ctx.read() as session:
        found = await repo.read_token_with_owner(session, token_hash=sha256(secret))
        if found is None:
            return None
        token, owner = found
        if (
            token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= now)
            or owner.disabled
        ):
            return None
        identity = Identity(
            actor=f"token:{token.name}",
            user_name=owner.name,
            role=ceiling(Role(owner.role), Role(token.role_ceiling)),
        )
        token_id, last_used = token.id, token.last_used_at
    if last_used is None or last_used < now - LAST_USED_RESOLUTION:
        await _mark_token_used(ctx, token_id=token_id, now=now)
    return identity


async def _mark_token_used(ctx: ServiceContext, *, token_id: uuid.UUID, now: datetime) -> None:
    """Note when a token was last used, if the database takes the write.

    Bookkeeping, not a condition of entry: when the database cannot be written (a full disk),
    the request goes on (a read may be served, the emergency stop pressed) and the time is
    noted at a later use.
    """
    try:
        async with ctx.write() as session:
            await repo.mark_token_used(
                session, token_id=token_id, now=now, not_since=now - LAST_USED_RESOLUTION
            )
    except Exception as failure:
        if database_fault(failure) is None:
            raise


async def revoke_token(ctx: ServiceContext, *, name: str, actor: str) -> TokenRead:
    """Revoke the token ``name``: it stops authenticating as soon as this commits.

    Revoking a revoked token changes nothing (and appends no event).

    Raises:
        NotFound: no such token (field ``name``).
    """
    async with ctx.write() as session:
        token = await repo.read_token_by_name(session, name=name)
        if token is None:
            raise NotFound(f"no token is called {name!r}", field="name")
        owner = await session.get(User, token.user_id)
        assert owner is not None  # the foreign key guarantees it
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            await append(
                session,
                [
                    NewEvent(
                        type=access.TOKEN_REVOKED,
                        actor=actor,
                        payload={
                            "token_id": str(token.id),
                            "name": token.name,
                            "user_name": owner.name,
                        },
                    )
                ],
            )
        await session.flush()
        return _token_read(token, owner.name)


async def list_tokens(ctx: ServiceContext, *, user_name: str | None = None) -> list[TokenRead]:
    """Tokens (of ``user_name``, when given), newest first, revoked ones included.

    Lists show the prefix and the last use; never the secret (not stored) nor its hash.

    Raises:
        NotFound: ``user_name`` is given and no such user exists (field ``user_name``).
    """
    async with ctx.read() as session:
        user_id: uuid.UUID | None = None
        if user_name is not None:
            user_id = (await user_or_404(session, user_name, field="user_name")).id
        rows = await repo.read_tokens(session, user_id=user_id)
        return [_token_read(token, owner) for token, owner in rows]


async def _append_one(ctx: ServiceContext, event: NewEvent) -> None:
    """Append ``event`` in a write transaction of its own."""
    async with ctx.write() as session:
        await append(session, [event])


async def identity_of_user(ctx: ServiceContext, *, name: str) -> Identity | None:
    """The identity of user ``name`` as stored now, or ``None`` if they are unknown or disabled.

    Browser sessions are checked by ``services.usecases.sessions.authenticate_session``; this serves
    local commands acting as a user (``acting_user``).
    """
    async with ctx.read() as session:
        user = await repo.read_user_by_name(session, name=name)
        if user is None or user.disabled:
            return None
        return Identity(actor=f"user:{user.name}", user_name=user.name, role=Role(user.role))


async def acting_user(
    ctx: ServiceContext, *, name: str, permission: access.Permission, field: str = "as"
) -> Identity:
    """The identity of user ``name``, for a local command that acts as them.

    Whoever holds the home's database may act as any user (``login-link`` signs one in); this
    checks only that the user exists, is enabled and holds ``permission``, as a request of
    theirs would be checked.

    Raises:
        NotFound: no user is called ``name``, or they are disabled (``field`` names the option).
        PermissionDenied: their role does not hold ``permission``.
    """
    found = await identity_of_user(ctx, name=name)
    if found is None:
        raise NotFound(
            f"no enabled user is called {name!r}; `missionctl user list` shows them", field=field
        )
    if not found.allows(permission):
        least = next(role for role in access.ROLES if access.allows(role, permission))
        raise PermissionDenied(
            f"user {name!r} has the {found.role.value} role: {permission.value} needs the "
            f"{least.value} role or above",
            field=field,
        )
    return found


async def record_denial(
    ctx: ServiceContext,
    *,
    actor: str | None,
    status: int,
    method: str,
    path: str,
    permission: str | None,
    reason: str,
    address: str | None,
    dropped: int = 0,
) -> None:
    """Append ``access.denied``: who was refused what, and why (never the credential itself).

    ``actor`` is the identity refused, or ``None`` for a request without one; such an event is
    recorded by ``system`` with ``"identity": "anonymous"`` (only real identities act).
    ``dropped`` (in the payload when not 0): this client's denials left unrecorded since its
    previous recorded one, plus, for an anonymous one, those the cap on all anonymous clients
    left unrecorded since the previous ``access.denied`` (the edge caps them).
    """
    await _append_one(
        ctx,
        NewEvent(
            type=access.ACCESS_DENIED,
            actor=actor or "system",
            payload={
                "identity": actor or "anonymous",
                "status": status,
                "method": method,
                "path": path,
                "permission": permission,
                "reason": reason,
                "address": address,
                **({"dropped": dropped} if dropped else {}),
            },
        ),
    )


async def record_sign_in_failure(
    ctx: ServiceContext,
    *,
    name: str,
    method: str,
    address: str | None,
    limited: bool,
    dropped: int = 0,
) -> None:
    """Append ``user.sign_in_failed`` for a refused sign-in (never a password).

    ``name`` is what was typed (``""`` for a link). It is recorded only when a user of that
    name exists; otherwise the payload's ``name`` is null: what people type into the name
    field is sometimes their password, and every viewer reads the log. The name is a payload
    field, not the actor: the event's actor is ``system``, which observed the attempt.
    ``dropped`` (in the payload when not 0): failures from this client (address, or IPv6 /64)
    left unrecorded since its previous recorded one, plus those the cap on all anonymous
    clients left unrecorded since the previous ``user.sign_in_failed``.
    """
    account = name.strip().lower()[:64]
    async with ctx.write() as session:
        known = bool(account) and (await repo.read_user_by_name(session, name=account) is not None)
        payload = {
            "name": account if known else None,
            "method": method,
            "address": address,
            "rate_limited": limited,
            **({"dropped": dropped} if dropped else {}),
        }
        await append(
            session,
            [NewEvent(type=access.USER_SIGN_IN_FAILED, actor="system", payload=payload)],
        )
