"""Browser sessions the server can end (ADR 0077), and the failed sign-ins admins look at.

A session cookie holds a random secret; the ``sessions`` row keeps only its SHA-256, so the
database never holds what would let someone in. A session lets its browser in while its row is
not revoked, its ``generation`` equals its user's ``session_generation``, the user is enabled
and it is younger than ``MISSIONCTL_SERVER_SESSION_MAX_AGE_S``; every request checks all four
with one indexed read (``authenticate_session``), so an ended session is refused by every
server process at once, with nothing cached.

Ending sessions: signing out revokes the browser's own (``end_session``); ``revoke_session``
one of a user's; ``revoke_user_sessions`` all of one user's (sign out everywhere), which is
also what a new password, a new role and disabling do (``end_user_sessions``, in their
transactions); ``revoke_all_sessions`` everyone's (after the session key is replaced). Each
appends an event; none carries a secret.
"""

import hashlib
import secrets
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.accounts import BrowserSession, User
from missionctl.db.models import Event
from missionctl.db.types import utcnow
from missionctl.domain import access
from missionctl.domain.access import Identity, Permission, Role
from missionctl.errors import NotFound, PermissionDenied
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import sessions as repo
from missionctl.repositories import users as users_repo
from missionctl.schemas.sessions import AccountAttempts, FailedSignIn, SessionRead, SignInAttempts
from missionctl.services.runtime.context import ServiceContext

# Event types of this module (docs/events.md, "Identity").
SESSION_REVOKED = "session.revoked"
USER_SESSIONS_REVOKED = "user.sessions_revoked"
SESSIONS_REVOKED_ALL = "session.revoked_all"

# 32 random bytes (256 bits): the cookie's session secret.
_SECRET_BYTES = 32
_SECRET_MAX_CHARS = 100
# last_seen_at is bookkeeping, not history: written at most once a minute per session, so that
# browsing takes no write lock per request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
SESSIONS_LISTED = 50
FAILURES_LISTED = 200
_ADDRESSES_SHOWN = 5
USER_AGENT_MAX_CHARS = 300


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _read(row: BrowserSession, user: User, *, now: datetime, max_age_s: int) -> SessionRead:
    return SessionRead(
        id=row.id,
        user_name=user.name,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        address=row.address,
        user_agent=row.user_agent,
        revoked_at=row.revoked_at,
        active=_lets_in(row, user, now=now, max_age_s=max_age_s),
    )


def _lets_in(row: BrowserSession, user: User, *, now: datetime, max_age_s: int) -> bool:
    return (
        row.revoked_at is None
        and row.generation == user.session_generation
        and not user.disabled
        and row.created_at > now - timedelta(seconds=max_age_s)
    )


async def start_session(
    ctx: ServiceContext, *, user_name: str, address: str | None, user_agent: str
) -> str | None:
    """Open a session for ``user_name``; its secret (for the cookie), or ``None`` if disabled.

    Call it after a one-time link was accepted (a password's check opens its session itself:
    ``identity.sign_in_with_password``); the secret is returned once and only its SHA-256 is
    stored.
    """
    async with ctx.write() as session:
        user = await users_repo.read_user_by_name(session, name=user_name)
        if user is None or user.disabled:
            return None
        return add_session(session, user=user, address=address, user_agent=user_agent)


def add_session(session: AsyncSession, *, user: User, address: str | None, user_agent: str) -> str:
    """Add a session of ``user`` in the caller's transaction; its secret (shown only here).

    The session carries the user's ``session_generation`` as the transaction reads it: a
    change that ends the user's sessions and commits after it ends this one too.
    """
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    now = utcnow()
    session.add(
        BrowserSession(
            user_id=user.id,
            secret_hash=_sha256(secret),
            generation=user.session_generation,
            created_at=now,
            last_seen_at=now,
            address=None if address is None else address[:64],
            user_agent=user_agent[:USER_AGENT_MAX_CHARS],
        )
    )
    return secret


async def authenticate_session(ctx: ServiceContext, *, secret: str) -> Identity | None:
    """The identity of the session whose cookie holds ``secret``, or ``None`` if it has ended.

    Ended: unknown, revoked, made before its user's sessions were all ended, older than the
    session lifetime, or its user is disabled. ``last_seen_at`` moves at most once a minute.
    """
    if not secret or len(secret) > _SECRET_MAX_CHARS:
        return None
    now = utcnow()
    max_age_s = ctx.settings.server.session_max_age_s
    async with ctx.read() as session:
        found = await repo.read_session_with_user(session, secret_hash=_sha256(secret))
        if found is None or not _lets_in(*found, now=now, max_age_s=max_age_s):
            return None
        row, user = found
        identity = Identity(actor=f"user:{user.name}", user_name=user.name, role=Role(user.role))
        session_id, last_seen = row.id, row.last_seen_at
    if last_seen < now - LAST_SEEN_RESOLUTION:
        async with ctx.write() as session:
            await repo.mark_session_seen(
                session, session_id=session_id, now=now, not_since=now - LAST_SEEN_RESOLUTION
            )
    return identity


async def end_session(ctx: ServiceContext, *, secret: str, user_name: str) -> None:
    """Sign out: revoke the session holding ``secret`` and append ``user.signed_out``."""
    async with ctx.write() as session:
        found = await repo.read_session_with_user(session, secret_hash=_sha256(secret))
        payload: dict[str, object] = {"name": user_name}
        if found is not None:
            row, _ = found
            row.revoked_at = row.revoked_at or utcnow()
            payload["session_id"] = str(row.id)
        event = NewEvent(type=access.USER_SIGNED_OUT, actor=f"user:{user_name}", payload=payload)
        await append(session, [event])


def _check_may_manage(viewer: Identity | None, owner: str) -> None:
    """Refuse to show or end ``owner``'s sessions to anyone but them and admins.

    ``viewer`` ``None`` is the local command line, which acts as the system.
    """
    if viewer is None or viewer.user_name == owner or viewer.allows(Permission.USERS_ADMIN):
        return
    raise PermissionDenied(
        f"only {owner!r} and admins may see or end {owner!r}'s sessions; you are "
        f"{viewer.user_name!r} ({viewer.role.value})",
        field="user",
    )


async def _user_or_404(session: AsyncSession, name: str) -> User:
    user = await users_repo.read_user_by_name(session, name=name)
    if user is None:
        raise NotFound(
            f"no user is called {name!r}; `missionctl user list` shows them", field="user"
        )
    return user


async def list_sessions(
    ctx: ServiceContext,
    *,
    user_name: str,
    viewer: Identity | None,
    current_secret: str | None = None,
) -> list[SessionRead]:
    """The newest sessions of ``user_name``, newest first; ``current`` marks the asker's.

    Raises:
        NotFound: no such user (field ``user``).
        PermissionDenied: ``viewer`` is neither that user nor an admin (field ``user``).
    """
    _check_may_manage(viewer, user_name)
    now = utcnow()
    current_hash = _sha256(current_secret) if current_secret else None
    async with ctx.read() as session:
        user = await _user_or_404(session, user_name)
        rows = await repo.read_user_sessions(session, user_id=user.id, limit=SESSIONS_LISTED)
    max_age_s = ctx.settings.server.session_max_age_s
    listed = [_read(row, user, now=now, max_age_s=max_age_s) for row in rows]
    for read, row in zip(listed, rows, strict=True):
        read.current = row.secret_hash == current_hash
    return listed


async def revoke_session(
    ctx: ServiceContext, *, session_id: uuid.UUID, viewer: Identity | None, actor: str
) -> SessionRead:
    """End one session: its browser is refused from its next request on.

    Revoking a revoked session changes nothing (and appends no event).

    Raises:
        NotFound: no such session (field ``session_id``).
        PermissionDenied: ``viewer`` is neither its user nor an admin (field ``user``).
    """
    now = utcnow()
    async with ctx.write() as session:
        row = await repo.read_session(session, session_id=session_id)
        owner = None if row is None else await session.get(User, row.user_id)
        if row is None or owner is None:
            raise NotFound(f"no session has the id {session_id}", field="session_id")
        _check_may_manage(viewer, owner.name)
        if row.revoked_at is None:
            row.revoked_at = now
            payload = {"session_id": str(row.id), "name": owner.name}
            await append(session, [NewEvent(type=SESSION_REVOKED, actor=actor, payload=payload)])
        await session.flush()
        return _read(row, owner, now=now, max_age_s=ctx.settings.server.session_max_age_s)


async def end_user_sessions(session: AsyncSession, *, user: User, now: datetime) -> int:
    """End every session of ``user`` in the caller's transaction; how many were live.

    Moves the user's ``session_generation`` on, so that a session opened concurrently under
    the old generation is refused too, and marks the live rows revoked for the lists.
    """
    user.session_generation += 1
    return await repo.revoke_sessions(session, now=now, user_id=user.id)


async def revoke_user_sessions(
    ctx: ServiceContext, *, user_name: str, viewer: Identity | None, actor: str
) -> int:
    """Sign ``user_name`` out everywhere; how many sessions were live.

    Appends ``user.sessions_revoked`` (even when none were live: the generation moved on).

    Raises:
        NotFound: no such user (field ``user``).
        PermissionDenied: ``viewer`` is neither that user nor an admin (field ``user``).
    """
    _check_may_manage(viewer, user_name)
    async with ctx.write() as session:
        user = await _user_or_404(session, user_name)
        count = await end_user_sessions(session, user=user, now=utcnow())
        payload = {"name": user.name, "count": count, "reason": "sign_out_everywhere"}
        await append(session, [NewEvent(type=USER_SESSIONS_REVOKED, actor=actor, payload=payload)])
    return count


async def end_all_sessions(session: AsyncSession, *, now: datetime) -> int:
    """End every session of every user in the caller's transaction; how many were live.

    As ``end_user_sessions`` for everyone: every generation moves on, every live row is marked
    revoked.
    """
    await repo.advance_every_generation(session)
    return await repo.revoke_sessions(session, now=now)


async def revoke_all_sessions(ctx: ServiceContext, *, actor: str, reason: str = "") -> int:
    """End every browser session of every user at once; how many were live.

    For the replacement of the session key and for an incident: each user's generation moves
    on and every live row is marked revoked, in one transaction with ``session.revoked_all``.
    """
    async with ctx.write() as session:
        count = await end_all_sessions(session, now=utcnow())
        payload: dict[str, object] = {"count": count, "reason": reason[:200]}
        await append(session, [NewEvent(type=SESSIONS_REVOKED_ALL, actor=actor, payload=payload)])
    return count


def _failure(event: Event) -> FailedSignIn:
    payload = event.payload
    name = payload.get("name")
    return FailedSignIn(
        seq=event.seq,
        at=event.ts,
        name=name if isinstance(name, str) and name else None,
        method=str(payload.get("method", "")),
        address=payload.get("address") if isinstance(payload.get("address"), str) else None,
        rate_limited=payload.get("rate_limited") is True,
    )


async def recent_sign_in_failures(
    ctx: ServiceContext, *, limit: int = FAILURES_LISTED
) -> SignInAttempts:
    """The newest ``limit`` failed sign-ins, one by one and summed per account.

    Accounts are ordered by their newest failure; names of no user are summed as one
    (``name`` null), since their text is not recorded.
    """
    async with ctx.read() as session:
        events = await repo.read_events_of_type(
            session, type_=access.USER_SIGN_IN_FAILED, limit=limit
        )
    recent = [_failure(event) for event in events]
    accounts: OrderedDict[str | None, AccountAttempts] = OrderedDict()
    for failure in recent:
        summary = accounts.get(failure.name)
        if summary is None:
            summary = accounts[failure.name] = AccountAttempts(
                name=failure.name, count=0, last_at=failure.at, addresses=[]
            )
        summary.count += 1
        shown = summary.addresses
        if failure.address and failure.address not in shown and len(shown) < _ADDRESSES_SHOWN:
            shown.append(failure.address)
    return SignInAttempts(accounts=list(accounts.values()), recent=recent)
