"""Mini-specs: what a client writes, what a decision carries, and what is read back."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text
from missionctl.schemas.plans import TASK_KEY_PATTERN

SPEC_BODY_MAX_CHARS = 20_000
SPEC_REASON_MAX_CHARS = 2000

SpecStatus = Literal["draft", "approved", "rejected"]
SPEC_STATUSES: tuple[SpecStatus, ...] = ("draft", "approved", "rejected")
# What a marked task's spec means for its work: ``missing`` (none written), ``draft``,
# ``approved`` (fresh), ``stale`` (approved too long ago), ``rejected``.
TaskSpecStatus = Literal["missing", "draft", "approved", "stale", "rejected"]


def _not_blank(message: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise PydanticCustomError("string_too_short", message, {"min_length": 1})
        return value

    return BeforeValidator(check)


SpecBody = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=SPEC_BODY_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(SPEC_BODY_MAX_CHARS),
    _not_blank("a spec needs a body: say what changes, how, and how it is rolled back"),
]


class SpecWrite(BaseModel):
    """A mini-spec for one task of a mission's plan, in Markdown."""

    model_config = ConfigDict(extra="forbid")

    task_key: Annotated[str, StringConstraints(pattern=TASK_KEY_PATTERN)] = Field(
        description="The plan task the spec is for (its key, e.g. `db-schema`).",
        examples=["db-schema"],
    )
    body: SpecBody = Field(
        description=f"The spec in Markdown, 1 to {SPEC_BODY_MAX_CHARS} characters: what "
        "changes, the interfaces it touches, how it is tested and rolled back.",
        examples=["## Change\nAdd a `visits` table.\n\n## Rollback\nDrop it."],
    )


class SpecApprove(BaseModel):
    """An approval's note: optional, and so is the body."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, max_length=SPEC_REASON_MAX_CHARS, pattern=NO_NUL_PATTERN
        ),
        plain_text(SPEC_REASON_MAX_CHARS),
    ] = Field(default="", description="Optional: a note recorded with the approval.")


class SpecReject(BaseModel):
    """A rejection's reason: required."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=SPEC_REASON_MAX_CHARS,
            pattern=NO_NUL_PATTERN,
        ),
        plain_text(SPEC_REASON_MAX_CHARS),
        _not_blank("a rejection needs a reason, so that the author knows what to change"),
    ] = Field(
        description=f"Required: what the spec must change, 1 to {SPEC_REASON_MAX_CHARS} "
        "characters.",
        examples=["say how the migration is rolled back"],
    )


class SpecRead(BaseModel):
    """A mini-spec and its decision."""

    id: uuid.UUID
    mission_id: uuid.UUID
    task_key: str
    status: SpecStatus
    body: str
    author: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    artifact_id: uuid.UUID | None
    created_at: datetime
    released_steps: int = Field(
        default=0,
        description="On a decision: how many held steps of the mission it released.",
    )


class MarkedTask(BaseModel):
    """A task of the mission's newest plan that needs an approved mini-spec, and where it is."""

    task_key: str
    title: str
    marks: list[str] = Field(description="Each rule set marking it, with its evidence.")
    status: TaskSpecStatus
    spec: SpecRead | None = Field(description="The task's newest spec, if any.")
    approved_at: datetime | None = Field(description="When its latest approval was given.")
