"""Mission contracts."""

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from missionctl.domain.coding import is_branch_name, is_coding_agent, is_repository_source
from missionctl.domain.states import MissionStatus

GOAL_MAX_CHARS = 4000
TITLE_MAX_CHARS = 200
CONSTRAINT_MAX_CHARS = 500
MAX_CONSTRAINTS = 50
REPO_CONTEXT_MAX_CHARS = 20_000
BUDGET_MAX_USD = Decimal(1_000_000)
MAX_QUESTIONS = 10
"""Most questions a planner asks at once, and so most answers a user sends."""
QUESTION_MAX_CHARS = 500
ANSWER_MAX_CHARS = 2000


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


BUDGET_PATTERN = r"^[0-9]+(\.[0-9]{1,6})?$"
"""A budget written as a string: digits, and at most 6 decimal places."""
_SIGNED_DECIMAL = re.compile(r"(-?)[0-9]+(?:\.([0-9]+))?")


def _budget_text(value: object) -> object:
    """Accept a budget string only as :data:`BUDGET_PATTERN` allows.

    Python would read ``"1e3"``, ``" 2"``, ``"-0"`` or ``"NaN"`` as decimals. A negative amount
    and too many decimal places get the errors a number would get, so they are worded alike.
    """
    if not isinstance(value, str):
        return value
    match = _SIGNED_DECIMAL.fullmatch(value)
    if match is None:
        raise PydanticCustomError(
            "decimal_parsing",
            "must be a number of US dollars with at most 6 decimal places, like 2.50",
        )
    if match.group(1):
        raise PydanticCustomError(
            "greater_than_equal", "Input should be greater than or equal to {ge}", {"ge": 0}
        )
    if len(match.group(2) or "") > 6:
        raise PydanticCustomError(
            "decimal_max_places",
            "Decimal input should have no more than {decimal_places} decimal places",
            {"decimal_places": 6},
        )
    return value


BudgetUsd = Annotated[
    Decimal,
    Field(ge=0, le=BUDGET_MAX_USD, decimal_places=6),
    BeforeValidator(_budget_text),
    # What is enforced, for OpenAPI, which Pydantic would show without the decimal places. Not
    # `multipleOf: 0.000001`: checked in binary floating point, 0.3 is not a multiple of it.
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": int(BUDGET_MAX_USD),
                    "description": "At most 6 decimal places.",
                },
                {"type": "string", "pattern": BUDGET_PATTERN},
            ]
        },
        mode="validation",
    ),
]
"""A spending cap in US dollars: 0 to 1,000,000 with at most 6 decimal places (micro-dollars)."""


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


class MissionRepository(BaseModel):
    """The repository a mission's coding steps work on (docs/coding-agents.md)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(
        min_length=1,
        max_length=2000,
        description="An absolute path on the machines that run steps, or a clone URL "
        "(https://, ssh://, git://, file:// or user@host:path).",
        examples=["/srv/repos/shop", "https://git.example.com/team/shop.git"],
    )
    base: str = Field(
        default="main",
        max_length=200,
        description="The branch each coding step starts from and is merged back into.",
    )
    agent: str | None = Field(
        default=None,
        max_length=100,
        description="The coding agent a plan's code tasks run with (`coding:codex`, "
        "`coding:claude`, `coding:aider`); none: they write documents as before.",
    )

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if re.match(r"[A-Za-z]+://[^/@]*:[^/@]*@", value):
            raise ValueError(
                "a clone URL may not hold a password or token: it would be shown and logged; "
                "give the machines that run steps a git credential helper instead"
            )
        if not is_repository_source(value):
            raise ValueError(
                "give an absolute path or a clone URL (https://, ssh://, git://, file:// or "
                "user@host:path)"
            )
        return value

    @field_validator("base")
    @classmethod
    def _base(cls, value: str) -> str:
        if not is_branch_name(value):
            raise ValueError("give a branch name such as main or release/2.0")
        return value

    @field_validator("agent")
    @classmethod
    def _agent(cls, value: str | None) -> str | None:
        if value is not None and not is_coding_agent(value):
            raise ValueError(
                "give a coding agent such as coding:codex, coding:claude or coding:aider"
            )
        return value


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
    budget_usd: BudgetUsd | None = Field(
        default=None,
        description="Spending cap in US dollars for everything done for this mission: 0 to "
        "1000000, at most 6 decimal places (a millionth of a dollar), as a number or a string "
        'like "2.50".',
    )
    repository: MissionRepository | None = Field(
        default=None, description="The repository its coding steps work on, if any."
    )


class ClarificationRound(BaseModel):
    """One time a planner asked about a mission instead of planning it, and the answers."""

    reason: str = Field(description="Why the planner asked.")
    questions: list[str] = Field(description="What it asked, in order.")
    answers: list[str] | None = Field(
        description="The answers, in the questions' order (an empty string for a question left "
        "unanswered); null while the mission waits for them."
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
    clarifications: list[ClarificationRound] = Field(
        default_factory=list,
        description="Every time a planner asked questions instead of planning, oldest first; "
        "the last one waits for answers while the status is `needs_clarification`.",
    )
    repository: MissionRepository | None = Field(
        default=None, description="The repository its coding steps work on, if any."
    )


class MissionPage(BaseModel):
    """One page of missions, newest first."""

    items: list[MissionRead]
    total: int = Field(description="Missions matching the filters, on all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
