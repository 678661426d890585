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
    StrictBool,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from missionctl.domain.coding import (
    is_branch_name,
    is_coding_agent,
    is_repository_source,
    model_endpoint,
)
from missionctl.domain.states import MissionStatus
from missionctl.domain.test_commands import (
    MAX_TEST_COMMAND_ARG_CHARS,
    MAX_TEST_COMMAND_ARGS,
    command_line_problem,
    looks_like_a_key,
)

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
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A JSON or YAML number (a definition read strictly takes no float for a Decimal).
        return Decimal(str(value))
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
    # As a Decimal: a definition read strictly (``workflow_checks``) takes no string for one,
    # though its published schema allows this one.
    return Decimal(value)


def usd_json_schema(maximum: int) -> WithJsonSchema:
    """The OpenAPI schema of 0 to ``maximum`` US dollars, as the validators enforce it.

    The validators are :data:`USD_TEXT` and ``decimal_places=6``. Pydantic would show the
    amount without its decimal places and with any string. Not ``multipleOf: 0.000001``:
    checked in binary floating point, 0.3 is not a multiple of it.
    """
    return WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": maximum,
                    "description": "At most 6 decimal places.",
                },
                {"type": "string", "pattern": usd_text_pattern(maximum)},
            ]
        },
        mode="validation",
    )


def usd_text_pattern(maximum: int) -> str:
    """:data:`BUDGET_PATTERN` bounded by ``maximum``, a power of ten: ``"1000000.5"`` is refused.

    Fewer digits than ``maximum`` has, or ``maximum`` itself with zero decimals (leading zeros
    allowed, as ``Decimal`` reads them).
    """
    digits = len(str(maximum)) - 1
    assert maximum == 10**digits, "the pattern is written for a power of ten"
    return rf"^0*([0-9]{{1,{digits}}}(\.[0-9]{{1,6}})?|{maximum}(\.0{{1,6}})?)$"


USD_TEXT = BeforeValidator(_budget_text)
"""An amount written as a string is read only as :data:`BUDGET_PATTERN` allows."""

BudgetUsd = Annotated[
    Decimal,
    Field(ge=0, le=BUDGET_MAX_USD, decimal_places=6),
    USD_TEXT,
    usd_json_schema(int(BUDGET_MAX_USD)),
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


# Stands in for the other parts when one part of a model endpoint is checked alone.
_ENDPOINT_PLACEHOLDER = {"base_url": "https://llm.example.com", "secret": "KEY"}


def _endpoint_part(part: str, value: str) -> str:
    """``value`` if ``domain.coding.model_endpoint`` accepts it as ``part``, else ValueError."""
    try:
        model_endpoint(_ENDPOINT_PLACEHOLDER | {part: value})
    except ValueError as exc:
        # The rule's words name the step's input (inputs.model.<part>): here the field is named.
        raise ValueError(str(exc).removeprefix(f"inputs.model.{part} ")) from None
    return value


class MissionModel(BaseModel):
    """The model endpoint a mission's coding steps point their CLI at (their ``inputs.model``).

    The key itself is never here: ``secret`` names the secret that holds it, which the workers
    read from ``MISSIONCTL_SECRET_<NAME>`` when a step runs.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    base_url: str = Field(
        min_length=1,
        max_length=500,
        description="The API's base URL: http or https, a host, no user, password, query or "
        "fragment, no quotes or spaces.",
        examples=["https://api.anthropic.com", "https://llm.example.com/v1"],
    )
    secret: str = Field(
        min_length=1,
        max_length=64,
        description="The NAME of the secret that holds the key (letters, digits, _): the "
        "workers read MISSIONCTL_SECRET_<NAME>. Never the key itself.",
        examples=["anthropic"],
    )
    name: str | None = Field(
        default=None,
        max_length=100,
        description="The model to ask for; none: the CLI's default.",
        examples=["claude-sonnet-4-5"],
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _endpoint_part("base_url", value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if looks_like_a_key(value):
            # The value is not repeated: it may be the key, and messages are shown and logged.
            raise ValueError(
                "this looks like a key, not a secret's name: give the NAME of the secret "
                "(set MISSIONCTL_SECRET_<NAME> to the key on the workers), and replace the key "
                "if it was shared"
            )
        return _endpoint_part("secret", value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _endpoint_part("name", value)


# NUL characters and line breaks are refused by ``command_line_problem``, in words.
TestCommandArgument = Annotated[str, Field(max_length=MAX_TEST_COMMAND_ARG_CHARS)]


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

    model: MissionModel | None = Field(
        default=None,
        description="The model endpoint each coding step's CLI reaches (its `inputs.model`); "
        "none: the CLI's own configuration.",
    )
    test_command: list[TestCommandArgument] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TEST_COMMAND_ARGS,
        description="The command line each coding step runs in its worktree after the CLI (its "
        "`inputs.test_command`): its step counts as `built` only when it passes. None: detected "
        "once from the repository when the mission is created (see `test_command_note`).",
        examples=[["python", "-m", "pytest", "-q"]],
    )
    review: StrictBool = Field(
        default=False,
        description="The review loop: each code task is built, then tested, then reviewed "
        "(read-only; the reviewer's verdict is shown on the merge's approval) and reworked when "
        "the reviewer requests changes, by the same coding agent, before its merge. Needs "
        "`agent`.",
    )

    @field_validator("review")
    @classmethod
    def _review_needs_agent(cls, value: bool, info: ValidationInfo) -> bool:
        # ``agent`` is declared first, so it is checked (and in ``info.data``) by now.
        if value and info.data.get("agent") is None:
            raise ValueError("the review loop needs a coding agent: name one in repository.agent")
        return value

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

    @field_validator("test_command")
    @classmethod
    def _test_command(cls, value: list[str] | None) -> list[str] | None:
        problem = None if value is None else command_line_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class MissionRepositoryRead(MissionRepository):
    """A mission's repository as clients see it: what was asked, and what detection found."""

    test_command_detected: bool = Field(
        default=False,
        description="Whether Mission Control detected `test_command` from the repository "
        "(rather than the mission naming it).",
    )
    test_command_note: str | None = Field(
        default=None,
        description="What the test command was detected from, or why there is none "
        "(nothing found, or the repository could not be read); null when the mission named one.",
    )


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
    repository: MissionRepositoryRead | None = Field(
        default=None, description="The repository its coding steps work on, if any."
    )


class MissionPage(BaseModel):
    """One page of missions, newest first."""

    items: list[MissionRead]
    total: int = Field(description="Missions matching the filters, on all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
