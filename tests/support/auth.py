"""Credentials for tests that talk to the app: an admin's API token, a one-time link.

Every route requires an identity (ADR 0011), so the shared HTTP fixtures sign in as the admin
``tester`` with a Bearer token; tests of access itself make their own users and tokens.
"""

from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity, sign_in_links

TEST_ADMIN = "tester"


async def ensure_user(ctx: ServiceContext, name: str = TEST_ADMIN, role: Role = Role.ADMIN) -> None:
    """Create the user ``name`` with ``role`` unless it exists."""
    names = {user.name for user in await identity.list_users(ctx)}
    if name not in names:
        await identity.create_user(ctx, data=UserCreate(name=name, role=role), actor="system")


async def bearer_headers(
    ctx: ServiceContext, user: str = TEST_ADMIN, role: Role = Role.ADMIN, token: str | None = None
) -> dict[str, str]:
    """``Authorization`` headers with a new API token of ``user`` (created with ``role``)."""
    await ensure_user(ctx, user, role)
    tokens = {t.name for t in await identity.list_tokens(ctx)}
    name = token or f"{user}-{len(tokens) + 1}"
    _, secret = await identity.create_token(ctx, user_name=user, name=name, actor="system")
    return {"Authorization": f"Bearer {secret}"}


async def sign_in_link_secret(ctx: ServiceContext, user: str = TEST_ADMIN) -> str:
    """A one-time sign-in secret for ``user`` (created as an admin if missing)."""
    await ensure_user(ctx, user)
    return await sign_in_links.create_sign_in_link(ctx, user_name=user)
