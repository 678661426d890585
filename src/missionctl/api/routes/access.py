"""``/api/v1/users`` and ``/api/v1/tokens``: people, roles and API tokens (admins only).

What the local ``missionctl user|token`` commands do, over HTTP and as a named identity: the
events record the admin who acted (``user:NAME`` or ``token:NAME``), not ``system``. A token's
secret is in the response that creates it and nowhere else, ever.

Listing, adding, changing and disabling users, and listing and revoking tokens, are made from
their declarations in ``missionctl.operations.access``; making a token, whose answer carries
its secret beside it, is written here.
"""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.access import NAME_PATTERN, Role
from missionctl.operations.access import OPERATIONS
from missionctl.schemas.identity import TokenRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import identity

router = APIRouter(route_class=GuardedRoute, tags=["access"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

TokensAdmin = Annotated[Identity, requires(P.TOKENS_ADMIN)]


class TokenCreate(BaseModel):
    """A new API token for ``user_name``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        pattern=f"^{NAME_PATTERN.pattern}$",
        max_length=63,
        description="A lower-case slug, never reused; events name it `token:NAME`.",
    )
    user_name: str = Field(max_length=63, description="The user the token acts for.")
    role_ceiling: Role | None = Field(
        default=None, description="Highest role it acts with (default: the owner's role)."
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Days until it expires; omit for never."
    )


class TokenCreated(BaseModel):
    """The token and its secret: shown this once, stored only as a hash."""

    token: TokenRead
    secret: str = Field(description="Send as `Authorization: Bearer <secret>`.")


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    responses={**CONFLICT_RESPONSES, **BODY_RESPONSES},
)
async def create_token(body: TokenCreate, ctx: Context, who: TokensAdmin) -> TokenCreated:
    """Make a token; the response carries its secret, which is never shown again."""
    expires = None if body.expires_in_days is None else timedelta(days=body.expires_in_days)
    token, secret = await identity.create_token(
        ctx,
        user_name=body.user_name,
        name=body.name,
        role_ceiling=body.role_ceiling,
        expires_in=expires,
        actor=who.actor,
    )
    return TokenCreated(token=token, secret=secret)
