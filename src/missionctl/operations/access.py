"""People, roles and API tokens (admins only; ADR 0010).

Users need ``users:admin``, tokens ``tokens:admin``. Over the API these act as a named
identity: the events record the admin who acted (``user:NAME`` or ``token:NAME``), not
``system``. A password travels in the body that adds the user and is stored only as an
argon2id hash. Making a token answers its secret beside it, shown that once; only its SHA-256
is stored. None of these is an MCP tool: administration stays with the API, the pages and the
CLI.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import NAME_PATTERN, Role
from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.identity import (
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
)

_SERVICE = "missionctl.services.usecases.identity"

# A user's or a token's name: a lower-case slug (the column holds 63 characters).
Name = Annotated[str, Field(pattern=f"^{NAME_PATTERN.pattern}$", max_length=63)]


class RoleChange(BaseModel):
    """A user's new role."""

    model_config = ConfigDict(extra="forbid")

    role: Role


LIST_USERS: Operation[list[UserRead]] = Operation(
    name="list_users",
    doc="Every user, disabled ones included, by name.",
    method="GET",
    path="/users",
    permission=P.USERS_ADMIN,
    service=f"{_SERVICE}:list_users",
    output=list[UserRead],
    cli="user list",
)
CREATE_USER: Operation[UserRead] = Operation(
    name="create_user",
    doc="Add a user (409 if the name is taken); a password is stored only as an argon2id hash.",
    method="POST",
    path="/users",
    permission=P.USERS_ADMIN,
    service=f"{_SERVICE}:create_user",
    body=UserCreate,
    output=UserRead,
    status_code=201,
    errors=(409,),
    refusals={
        "password": "not a common password (or one followed by digits), at least 5 different "
        "characters, and not holding the user's name"
    },
    cli="user add",
)
SET_ROLE: Operation[UserRead] = Operation(
    name="set_role",
    doc="Change a user's role; their tokens follow at once (409 for the last enabled admin).",
    method="PUT",
    path="/users/{name}/role",
    permission=P.USERS_ADMIN,
    service=f"{_SERVICE}:set_role",
    body=RoleChange,
    body_fields=True,
    path_types={"name": Name},
    output=UserRead,
    errors=(409,),
    cli="user set-role",
)
DISABLE_USER: Operation[UserRead] = Operation(
    name="disable_user",
    doc="Disable a user: their sessions and tokens stop working at once (users are never deleted).",
    method="POST",
    path="/users/{name}/disable",
    permission=P.USERS_ADMIN,
    service=f"{_SERVICE}:disable_user",
    path_types={"name": Name},
    output=UserRead,
    errors=(409,),
    cli="user disable",
)
LIST_TOKENS: Operation[list[TokenRead]] = Operation(
    name="list_tokens",
    doc="Every token with its prefix, ceiling, expiry and last use; never a secret or a hash.",
    method="GET",
    path="/tokens",
    permission=P.TOKENS_ADMIN,
    service=f"{_SERVICE}:list_tokens",
    output=list[TokenRead],
    cli="token list",
)
CREATE_TOKEN: Operation[TokenCreated] = Operation(
    name="create_token",
    doc="Make a token; the response carries its secret, which is never shown again.",
    method="POST",
    path="/tokens",
    permission=P.TOKENS_ADMIN,
    service=f"{_SERVICE}:issue_token",
    body=TokenCreate,
    output=TokenCreated,
    status_code=201,
    errors=(409,),
    cli="token create",
)
REVOKE_TOKEN: Operation[TokenRead] = Operation(
    name="revoke_token",
    doc="Revoke a token: it stops authenticating as soon as this returns.",
    method="POST",
    path="/tokens/{name}/revoke",
    permission=P.TOKENS_ADMIN,
    service=f"{_SERVICE}:revoke_token",
    path_types={"name": Name},
    output=TokenRead,
    cli="token revoke",
)

OPERATIONS = (
    LIST_USERS,
    CREATE_USER,
    SET_ROLE,
    DISABLE_USER,
    LIST_TOKENS,
    CREATE_TOKEN,
    REVOKE_TOKEN,
)
