"""``/api/v1/users`` and ``/api/v1/tokens``: people, roles and API tokens (admins only).

What the local ``missionctl user|token`` commands do, over HTTP and as a named identity: the
events record the admin who acted (``user:NAME`` or ``token:NAME``), not ``system``. A token's
secret is in the response that creates it and nowhere else, ever.
"""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.access import NAME_PATTERN, Role
from missionctl.schemas.identity import TokenRead, UserCreate, UserRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import identity

router = APIRouter(route_class=GuardedRoute, tags=["access"], responses=ERROR_RESPONSES)
# Routes that read a body and may clash with the current state.
WRITE_RESPONSES = {**CONFLICT_RESPONSES, **BODY_RESPONSES}

UsersAdmin = Annotated[Identity, requires(P.USERS_ADMIN)]
TokensAdmin = Annotated[Identity, requires(P.TOKENS_ADMIN)]
Name = Annotated[str, Path(pattern=f"^{NAME_PATTERN.pattern}$", max_length=63)]


class RoleChange(BaseModel):
    """A user's new role."""

    model_config = ConfigDict(extra="forbid")

    role: Role


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


@router.get("/users", response_model=list[UserRead], dependencies=[requires(P.USERS_ADMIN)])
async def list_users(ctx: Context) -> list[UserRead]:
    """Every user, disabled ones included, by name."""
    return await identity.list_users(ctx)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=WRITE_RESPONSES,
)
async def create_user(body: UserCreate, ctx: Context, who: UsersAdmin) -> UserRead:
    """Add a user (409 if the name is taken); a password is stored only as an argon2id hash."""
    return await identity.create_user(ctx, data=body, actor=who.actor)


@router.put("/users/{name}/role", response_model=UserRead, responses=WRITE_RESPONSES)
async def set_role(name: Name, body: RoleChange, ctx: Context, who: UsersAdmin) -> UserRead:
    """Change a user's role; their tokens follow at once (409 for the last enabled admin)."""
    return await identity.set_role(ctx, name=name, role=body.role, actor=who.actor)


@router.post("/users/{name}/disable", response_model=UserRead, responses=CONFLICT_RESPONSES)
async def disable_user(name: Name, ctx: Context, who: UsersAdmin) -> UserRead:
    """Disable a user: their sessions and tokens stop working at once (users are never deleted)."""
    return await identity.disable_user(ctx, name=name, actor=who.actor)


@router.get("/tokens", response_model=list[TokenRead], dependencies=[requires(P.TOKENS_ADMIN)])
async def list_tokens(ctx: Context) -> list[TokenRead]:
    """Every token with its prefix, ceiling, expiry and last use; never a secret or a hash."""
    return await identity.list_tokens(ctx)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    responses=WRITE_RESPONSES,
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


@router.post("/tokens/{name}/revoke", response_model=TokenRead)
async def revoke_token(name: Name, ctx: Context, who: TokensAdmin) -> TokenRead:
    """Revoke a token: it stops authenticating as soon as this returns."""
    return await identity.revoke_token(ctx, name=name, actor=who.actor)
