"""Mission contracts."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from missionctl.domain.states import MissionStatus

GOAL_MAX_CHARS = 4000
TITLE_MAX_CHARS = 200
CONSTRAINT_MAX_CHARS = 500
MAX_CONSTRAINTS = 50
REPO_CONTEXT_MAX_CHARS = 20_000
BUDGET_MAX_USD = Decimal(1_000_000)


# Text the databases can store: PostgreSQL refuses NUL characters in text columns.
NO_NUL_PATTERN = r"^[^\x00]*$"


def plain_text(limit: int) -> BeforeValidator:
    """Refuse a string longer than ``limit`` as sent, or holding a NUL character.

    Runs before surrounding whitespace is stripped: the schema documents ``maxLength`` for what
    the client sends, and stripping first would accept a longer string whose excess is
    whitespace. A NUL is refused here (422) rather than by the database (500).
    """

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": limit},
            )
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError(
                "string_pattern_mismatch",
                "must not contain NUL characters",
                {"pattern": NO_NUL_PATTERN},
            )
        return value

    return BeforeValidator(check)


# The pattern comes first so the schema shows it (a validator before it would hide it).
GoalText = Annotated[str, StringConstraints(pattern=NO_NUL_PATTERN), plain_text(GOAL_MAX_CHARS)]
TitleText = Annotated[str, StringConstraints(pattern=NO_NUL_PATTERN), plain_text(TITLE_MAX_CHARS)]
RepoContextText = Annotated[
    str, StringConstraints(pattern=NO_NUL_PATTERN), plain_text(REPO_CONTEXT_MAX_CHARS)
]
Constraint = Annotated[
    str,
    Field(min_length=1, max_length=CONSTRAINT_MAX_CHARS, pattern=NO_NUL_PATTERN),
    plain_text(CONSTRAINT_MAX_CHARS),
]


class MissionCreate(BaseModel):
    """What a user submits to start a mission. Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    goal: GoalText = Field(
        min_length=1,
        max_length=GOAL_MAX_CHARS,
        description="The software goal, in plain words.",
        examples=["Build a URL shortener with click analytics and custom aliases"],
    )
    title: TitleText | None = Field(
        default=None,
        min_length=1,
        max_length=TITLE_MAX_CHARS,
        description="Short name; derived from the goal when omitted.",
    )
    constraints: list[Constraint] = Field(
        default_factory=list,
        max_length=MAX_CONSTRAINTS,
        description="Constraints the plan must respect (one per item).",
    )
    repo_context: RepoContextText = Field(
        default="",
        max_length=REPO_CONTEXT_MAX_CHARS,
        description="What exists already: repository, stack, conventions.",
    )
    budget_usd: Decimal | None = Field(
        default=None,
        ge=0,
        le=BUDGET_MAX_USD,
        decimal_places=6,
        description="Spending cap in US dollars for everything done for this mission.",
    )


class MissionRead(BaseModel):
    """A mission as clients see it."""

    id: uuid.UUID
    title: str
    goal: str
    constraints: list[str]
    repo_context: str
    status: MissionStatus
    budget_usd: float | None = Field(description="Spending cap in USD; null means uncapped.")
    spent_usd: float
    input_tokens: int
    output_tokens: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class MissionPage(BaseModel):
    """One page of missions, newest first."""

    items: list[MissionRead]
    total: int = Field(description="Missions matching the filters, on all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
