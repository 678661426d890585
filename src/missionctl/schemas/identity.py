"""Contracts for users and API tokens. No read model carries a password, hash or secret."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_core import PydanticCustomError

from missionctl.domain.access import NAME_PATTERN, Permission, Role

PASSWORD_MIN_CHARS = 12
# argon2 accepts any length; a cap keeps one request from costing unbounded memory and time.
PASSWORD_MAX_CHARS = 1024
DISPLAY_NAME_MAX_CHARS = 200

NAME_RULE = "a lower-case slug: a-z, 0-9, '.', '_' or '-', starting with a letter or digit"


def _password_length(value: object) -> object:
    """Refuse a password of the wrong length in words (Pydantic counts a secret's "items")."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(text, str) and not PASSWORD_MIN_CHARS <= len(text) <= PASSWORD_MAX_CHARS:
        short = len(text) < PASSWORD_MIN_CHARS
        raise PydanticCustomError(
            "string_too_short" if short else "string_too_long",
            "must be {min_length} to {max_length} characters long",
            {"min_length": PASSWORD_MIN_CHARS, "max_length": PASSWORD_MAX_CHARS},
        )
    return value


# The schema shows the bounds (minLength, maxLength); the validator words the refusal.
Password = Annotated[
    SecretStr,
    Field(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS),
    BeforeValidator(_password_length),
]


class UserCreate(BaseModel):
    """A new user. Without a password the user signs in with a one-time link only."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        pattern=f"^{NAME_PATTERN.pattern}$",  # Rust regex: $ is the very end
        min_length=1,
        max_length=63,
        description=f"Sign-in name, {NAME_RULE}; events name the user `user:NAME`.",
        examples=["ada"],
    )
    display_name: str = Field(
        default="", max_length=DISPLAY_NAME_MAX_CHARS, description="How pages greet the user."
    )
    role: Role = Field(default=Role.VIEWER, description="viewer < operator < approver < admin.")
    password: Password | None = Field(
        default=None,
        description=f"{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters; "
        "stored only as an argon2id hash.",
    )


class UserRead(BaseModel):
    """A user as clients see it (never the password hash)."""

    id: uuid.UUID
    name: str
    display_name: str
    role: Role
    disabled: bool
    has_password: bool = Field(description="False: the user signs in by one-time link only.")
    created_at: datetime
    updated_at: datetime
    last_sign_in_at: datetime | None


class TokenRead(BaseModel):
    """An API token as lists show it: the prefix identifies it; the secret is never shown again."""

    id: uuid.UUID
    name: str
    user_name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    role_ceiling: Role
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


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


class MeRead(BaseModel):
    """Who the caller is, as the server sees it (``GET /api/v1/me``)."""

    actor: str = Field(
        description="What events record: `token:NAME` for an API token, `user:NAME` for a "
        "signed-in person.",
        examples=["token:ci-bot"],
    )
    user_name: str = Field(description="The user the credential belongs to.")
    role: Role = Field(description="The effective role: the user's, capped by a token's ceiling.")
    permissions: list[Permission] = Field(description="Everything that role may do.")
