"""Identities for the access tests: one API token per role, plus a revoked and an expired one."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from missionctl.db.accounts import ApiToken
from missionctl.db.types import utcnow
from missionctl.domain.access import ROLES, Role
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity
from tests.support.auth import ensure_user

ANONYMOUS = "anonymous"
REVOKED = "revoked token"
EXPIRED = "expired token"


@dataclass(frozen=True)
class Caller:
    """Who makes a request in the matrix: a label, its headers, and its role (if any)."""

    label: str
    headers: dict[str, str]
    role: Role | None


async def _token(ctx: ServiceContext, user: str, name: str) -> str:
    _, secret = await identity.create_token(ctx, user_name=user, name=name, actor="system")
    return secret


async def make_callers(ctx: ServiceContext) -> list[Caller]:
    """Anonymous, one token per role, and a revoked and an expired admin token."""
    callers = [Caller(ANONYMOUS, {}, None)]
    for role in ROLES:
        user = f"matrix-{role.value}"
        await ensure_user(ctx, user, role)
        secret = await _token(ctx, user, f"{user}-token")
        callers.append(Caller(role.value, {"Authorization": f"Bearer {secret}"}, role))
    revoked = await _token(ctx, "matrix-admin", "matrix-revoked")
    await identity.revoke_token(ctx, name="matrix-revoked", actor="system")
    callers.append(Caller(REVOKED, {"Authorization": f"Bearer {revoked}"}, None))
    expired = await _token(ctx, "matrix-admin", "matrix-expired")
    async with ctx.write() as session:  # as if its expiry had passed
        await session.execute(
            update(ApiToken)
            .where(ApiToken.name == "matrix-expired")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    callers.append(Caller(EXPIRED, {"Authorization": f"Bearer {expired}"}, None))
    return callers
