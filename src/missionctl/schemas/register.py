"""Decision log and risk register contracts: what people send to add or edit an item.

The limits are the plan schema's (``PlanDecision``, ``PlanRisk``): the planner's items live in
the same rows and a plan version is read back from them, so an edit keeps them valid plan items
(a title, a choice and one reason at least; a risk's description and mitigation). Unknown
fields are refused; text is stripped, bounded before stripping and free of NUL characters.

An edit (``DecisionEdit``, ``RiskEdit``) names the ``version`` of the item it was based on; an
omitted field keeps its value and ``null`` is refused, except for ``supersedes``, where
``null`` removes the link.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from missionctl.domain.register import DecisionStatus, RiskStatus
from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text
from missionctl.schemas.partial import PartialEdit
from missionctl.schemas.plans import (
    MAX_MITIGATION_TASKS,
    TASK_KEY_PATTERN,
    Likelihood,
    Severity,
)

TITLE_MAX_CHARS = 300
TEXT_MAX_CHARS = 4000
NAME_MAX_CHARS = 200
MAX_LIST_ITEMS = 30
MAX_DECIDERS = 20
MAX_ITEM_VERSION = 2**31 - 1
"""Versions are 32-bit INTEGER columns: a larger one cannot exist (a 422, not a 500)."""


# The pattern comes first so the schema shows it (a validator before it would hide it).
Title = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=TITLE_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(TITLE_MAX_CHARS),
]
Item = Title
Text = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=TEXT_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(TEXT_MAX_CHARS),
]
OptionalText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=TEXT_MAX_CHARS, pattern=NO_NUL_PATTERN),
    plain_text(TEXT_MAX_CHARS),
]
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=NAME_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(NAME_MAX_CHARS),
]
OptionalName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=NAME_MAX_CHARS, pattern=NO_NUL_PATTERN),
    plain_text(NAME_MAX_CHARS),
]
TaskKey = Annotated[str, StringConstraints(pattern=TASK_KEY_PATTERN, max_length=63)]


def integral_number(value: object) -> object:
    """``3.0`` as ``3``: JSON Schema's integer holds it; any other value goes on as it came."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Version = Annotated[
    int, BeforeValidator(integral_number), Field(ge=1, le=MAX_ITEM_VERSION, strict=True)
]
NewDecisionStatus = Literal["proposed", "accepted"]
FromMission = Annotated[
    uuid.UUID | None, Field(description="The finished mission a planner took it from (memory).")
]
FromMissionTitle = Annotated[
    str | None, Field(description="That mission's title, when the list was read.")
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Edit(PartialEdit):
    """An edit: the version it was based on, and the fields to change (omitted: kept)."""

    _NOT_CHANGES: ClassVar[frozenset[str]] = frozenset({"version"})

    version: Version = Field(
        description="The item's `version` this edit was based on; a stale one gets a 409."
    )


class DecisionCreate(_Body):
    """A decision to add to a mission's log. ``superseded`` is never set directly."""

    title: Title
    status: NewDecisionStatus = Field(default="proposed", description="`proposed` or `accepted`.")
    decided_on: date | None = Field(default=None, description="Defaults to today (UTC).")
    deciders: list[Name] = Field(default_factory=list, max_length=MAX_DECIDERS)
    context: OptionalText = Field(default="", description="What forces the decision.")
    choice: Text = Field(description="The decision: what is chosen.")
    consequences: OptionalText = Field(default="", description="What follows, good and bad.")
    reasons: list[Item] = Field(min_length=1, max_length=MAX_LIST_ITEMS)
    trade_offs: list[Item] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    alternatives: list[Item] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    supersedes: uuid.UUID | None = Field(
        default=None,
        description="A decision of the same mission this one replaces; it becomes `superseded`.",
    )


class DecisionEdit(_Edit):
    """Changes to a decision; ``supersedes: null`` removes its link."""

    _NULLABLE: ClassVar[frozenset[str]] = frozenset({"supersedes"})

    title: Title | None = None
    status: DecisionStatus | None = Field(
        default=None,
        description="`proposed` or `accepted`; `superseded` follows from another decision's "
        "`supersedes` and is not set directly.",
    )
    decided_on: date | None = None
    deciders: list[Name] | None = Field(default=None, max_length=MAX_DECIDERS)
    context: OptionalText | None = None
    choice: Text | None = None
    consequences: OptionalText | None = None
    reasons: list[Item] | None = Field(default=None, min_length=1, max_length=MAX_LIST_ITEMS)
    trade_offs: list[Item] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    alternatives: list[Item] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    supersedes: uuid.UUID | None = None


class DecisionRead(BaseModel):
    """A decision of a mission's log."""

    id: uuid.UUID
    mission_id: uuid.UUID
    plan_id: uuid.UUID | None = Field(description="The plan version that made it; null: people.")
    number: int = Field(description="Its number in the mission's log (its ADR's).")
    title: str
    status: DecisionStatus
    decided_on: date
    deciders: list[str]
    context: str
    choice: str
    consequences: str
    reasons: list[str]
    trade_offs: list[str]
    alternatives: list[str]
    supersedes: uuid.UUID | None
    superseded_by: list[uuid.UUID] = Field(description="The decisions that supersede this one.")
    from_mission: FromMission = None
    from_mission_title: FromMissionTitle = None
    version: int
    created_at: datetime
    updated_at: datetime


class RiskCreate(_Body):
    """A risk to add to a mission's register."""

    title: Title
    description: Text
    owner: OptionalName = Field(default="", description="Who looks after it (free text).")
    status: RiskStatus = RiskStatus.open
    severity: Severity
    likelihood: Likelihood
    mitigation: Text
    mitigation_tasks: list[TaskKey] = Field(
        default_factory=list,
        max_length=MAX_MITIGATION_TASKS,
        description="Keys of the newest plan's tasks that carry the mitigation.",
    )


class RiskEdit(_Edit):
    """Changes to a risk."""

    title: Title | None = None
    description: Text | None = None
    owner: OptionalName | None = None
    status: RiskStatus | None = None
    severity: Severity | None = None
    likelihood: Likelihood | None = None
    mitigation: Text | None = None
    mitigation_tasks: list[TaskKey] | None = Field(default=None, max_length=MAX_MITIGATION_TASKS)


class RiskRead(BaseModel):
    """A risk of a mission's register."""

    id: uuid.UUID
    mission_id: uuid.UUID
    plan_id: uuid.UUID | None = Field(description="The plan version that found it; null: people.")
    title: str
    description: str
    owner: str
    status: RiskStatus
    severity: str
    likelihood: str
    mitigation: str
    mitigation_tasks: list[str]
    from_mission: FromMission = None
    from_mission_title: FromMissionTitle = None
    version: int
    created_at: datetime
    updated_at: datetime


class HeatMapCell(BaseModel):
    """One cell of the heat map: live risks of one severity and likelihood."""

    severity: str
    likelihood: str
    count: int


class RiskRegister(BaseModel):
    """A mission's risks and the heat map of those still open or being mitigated."""

    risks: list[RiskRead]
    severities: list[str] = Field(description="The heat map's rows, worst first.")
    likelihoods: list[str] = Field(description="The heat map's columns, least first.")
    heat_map: list[list[HeatMapCell]]
