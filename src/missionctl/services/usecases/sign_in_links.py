"""One-time sign-in links and the first start (ADR 0010).

A link is a secret returned once, by the call that makes it; only its SHA-256 is stored, and no
event carries the secret or its hash. It signs its user in once, before it expires, and only
while they are enabled: of concurrent redemptions exactly one succeeds. Making a link appends
``sign_in_link.created``; using one appends ``user.signed_in``. On a database with no users the
first start creates the admin ``admin`` and a link for them, and words the message it prints.
"""

import os
import shlex
from datetime import timedelta
from pathlib import Path

from missionctl.db.accounts import SignInLink
from missionctl.db.types import utcnow
from missionctl.domain import access
from missionctl.domain.access import SIGN_IN_LINK_TTL_S, Identity, Role
from missionctl.errors import Conflict, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import users as repo
from missionctl.schemas.identity import UserCreate
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.identity import (
    SECRET_MAX_CHARS,
    create_user,
    iso,
    new_secret,
    sha256,
    user_or_404,
)

__all__ = [
    "FIRST_ADMIN",
    "LINK_PREFIX",
    "LINK_TTL_MAX_S",
    "SIGN_IN_LINK_TTL_S",
    "create_sign_in_link",
    "ensure_first_admin",
    "first_start_message",
    "lifetime_words",
    "peek_sign_in_link",
    "program_as_typed",
    "redeem_sign_in_link",
]

LINK_PREFIX = "mcl_"
LINK_TTL_MAX_S = 86_400


def lifetime_words(ttl_s: int) -> str:
    """A link's lifetime as a message says it: ``"15 minutes"``, ``"1 hour"``, ``"90 seconds"``."""
    for unit, seconds in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if ttl_s >= seconds and ttl_s % seconds == 0:
            count = ttl_s // seconds
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{ttl_s} second{'' if ttl_s == 1 else 's'}"


async def create_sign_in_link(
    ctx: ServiceContext,
    *,
    user_name: str,
    ttl_s: int = SIGN_IN_LINK_TTL_S,
    actor: str = "system",
) -> str:
    """Make a one-time sign-in secret for ``user_name``, valid for ``ttl_s`` seconds.

    Returns the secret (put it in the link's URL); only its SHA-256 is stored.

    Raises:
        ValidationFailed: ``ttl_s`` is not between 1 and 86,400 (field ``ttl_s``).
        NotFound: no such user (field ``user_name``).
        Conflict: the user is disabled (field ``user_name``).
    """
    if not 1 <= ttl_s <= LINK_TTL_MAX_S:
        raise ValidationFailed(
            [Problem("ttl_s", f"must be between 1 and {LINK_TTL_MAX_S} seconds")]
        )
    secret = new_secret(LINK_PREFIX)
    async with ctx.write() as session:
        user = await user_or_404(session, user_name, field="user_name")
        if user.disabled:
            raise Conflict(f"{user_name!r} is disabled", field="user_name")
        now = utcnow()
        link = SignInLink(
            user_id=user.id,
            token_hash=sha256(secret),
            expires_at=now + timedelta(seconds=ttl_s),
            created_at=now,
        )
        session.add(link)
        await session.flush()
        await append(
            session,
            [
                NewEvent(
                    type=access.SIGN_IN_LINK_CREATED,
                    actor=actor,
                    payload={
                        "link_id": str(link.id),
                        "user_name": user.name,
                        "expires_at": iso(link.expires_at),
                    },
                )
            ],
        )
    return secret


async def peek_sign_in_link(ctx: ServiceContext, *, secret: str) -> str | None:
    """The name of the user the link ``secret`` would sign in, without using it; else ``None``.

    ``None`` for an unknown, used or expired link, or a disabled user: what
    ``redeem_sign_in_link`` would refuse right now.
    """
    if not secret.startswith(LINK_PREFIX) or len(secret) > SECRET_MAX_CHARS:
        return None
    async with ctx.read() as session:
        found = await repo.read_sign_in_link_with_owner(session, token_hash=sha256(secret))
        if found is None:
            return None
        link, user = found
        if user.disabled or link.used_at is not None or link.expires_at <= utcnow():
            return None
        return user.name


async def redeem_sign_in_link(ctx: ServiceContext, *, secret: str) -> Identity | None:
    """Sign in with a one-time link: the user's identity, or ``None``.

    ``None`` for an unknown, used or expired link, or a disabled user. A link works once: of
    concurrent redemptions exactly one succeeds. Success sets ``last_sign_in_at`` and appends
    ``user.signed_in``.
    """
    if not secret.startswith(LINK_PREFIX) or len(secret) > SECRET_MAX_CHARS:
        return None
    async with ctx.write() as session:
        found = await repo.read_sign_in_link_with_owner(session, token_hash=sha256(secret))
        if found is None:
            return None
        link, user = found
        now = utcnow()
        if user.disabled or not await repo.claim_sign_in_link(session, link_id=link.id, now=now):
            return None
        user.last_sign_in_at = now
        await append(
            session,
            [
                NewEvent(
                    type=access.USER_SIGNED_IN,
                    actor=f"user:{user.name}",
                    payload={"name": user.name, "method": "link"},
                )
            ],
        )
        await session.flush()
        return Identity(actor=f"user:{user.name}", user_name=user.name, role=Role(user.role))


FIRST_ADMIN = "admin"


async def ensure_first_admin(ctx: ServiceContext, *, ttl_s: int = SIGN_IN_LINK_TTL_S) -> str | None:
    """On a database with no users, create the admin ``admin`` and a one-time link secret.

    Returns the link's secret (for ``/sign-in?token=``), or ``None`` when users already exist
    (then ``missionctl login-link NAME`` makes a link). The admin has no password until they set
    one; the link is how they get in the first time.
    """
    async with ctx.read() as session:
        if await repo.read_users(session):
            return None
    try:
        await create_user(
            ctx,
            data=UserCreate(name=FIRST_ADMIN, display_name="Administrator", role=Role.ADMIN),
            actor="system",
        )
    except Conflict:  # another process made it first; it printed the link
        return None
    return await create_sign_in_link(ctx, user_name=FIRST_ADMIN, ttl_s=ttl_s)


def program_as_typed(argv0: str, *, found_on_path: str | None, cwd: Path) -> str:
    """How a person types the running ``missionctl`` program in a shell at ``cwd``.

    ``missionctl`` when that name on ``PATH`` (``found_on_path``, as ``shutil.which`` answers)
    is this very program; otherwise its path, relative to ``cwd`` when it lies below it (after
    ``make run`` the program is only at ``.venv/bin/missionctl``), quoted for the shell.
    """
    program = Path(os.path.abspath(cwd / argv0))
    if found_on_path is not None and Path(found_on_path).resolve() == program.resolve():
        return "missionctl"
    try:
        shown = str(program.relative_to(os.path.abspath(cwd)))
    except ValueError:
        shown = str(program)
    if "/" not in shown:
        shown = f"./{shown}"
    return shlex.quote(shown)


def first_start_message(*, link_url: str, program: str, ttl_s: int = SIGN_IN_LINK_TTL_S) -> str:
    """What the first start prints: the one-time link, how long it lasts, how to set a password.

    ``program`` is the command as it can be typed (:func:`program_as_typed`); ``ttl_s`` the
    link's lifetime as ``ensure_first_admin`` made it.
    """
    return (
        f"First start: created the admin {FIRST_ADMIN!r}. Sign in (once, within "
        f"{lifetime_words(ttl_s)}) at\n"
        f"  {link_url}\n"
        "then set a password on your Account page, or with:\n"
        f"  printf '%s\\n' \"$PW\" | {program} user set-password {FIRST_ADMIN} --password-stdin\n"
        f"Another link, if this one expires: {program} login-link {FIRST_ADMIN}"
    )
