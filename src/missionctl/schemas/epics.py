"""Epic contracts: what people send to make and change an epic, and the roll-up they read back.

An epic is a named group of missions with an owner (a user's name), an optional target date
and an optional budget (ADR 0102). A mission is in one epic at most. Unknown fields are
refused; text is bounded and free of NUL characters, so a bad value is a 422 naming its field.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.domain.access import NAME_PATTERN
from missionctl.domain.board import Column
from missionctl.domain.outcomes import Outcome
from missionctl.domain.states import MissionStatus
from missionctl.schemas.missions import NO_NUL_PATTERN, BudgetUsd, plain_text
from missionctl.schemas.partial import PartialEdit
from missionctl.schemas.runs import IsoDate

NAME_MAX_CHARS = 100
DESCRIPTION_MAX_CHARS = 2000
MAX_EPIC_MISSIONS = 200
"""The most missions one epic holds: its roll-up reads each one's tasks."""
MAX_MISSIONS_PER_REQUEST = 100
MAX_LISTED = 50
"""The most open risks and waiting approvals an epic's roll-up lists (it counts them all)."""

EpicName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=NAME_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(NAME_MAX_CHARS),
]
Description = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=DESCRIPTION_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(DESCRIPTION_MAX_CHARS),
]
UserName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=63, pattern=f"^{NAME_PATTERN.pattern}$"),
]
MissionIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_MISSIONS_PER_REQUEST)]

_NAME_HELP = "A name people know it by; unique among the epics not archived."
_OWNER_HELP = "The user who answers for it (a user's name)."
_TARGET_HELP = "The day it should be done by (YYYY-MM-DD)."
_BUDGET_HELP = (
    "What its missions may spend together, in US dollars (0 to 1000000, at most 6 decimal "
    "places); the roll-up shows spending against it."
)


class EpicCreate(BaseModel):
    """A new epic, with the missions it starts with."""

    model_config = ConfigDict(extra="forbid")

    name: EpicName = Field(description=_NAME_HELP, examples=["Checkout revamp"])
    description: Description = Field(default="", description="What it is for.")
    owner: UserName | None = Field(
        default=None, description=f"{_OWNER_HELP} Left out: the person who makes it."
    )
    target_date: IsoDate | None = Field(default=None, description=_TARGET_HELP)
    budget_usd: BudgetUsd | None = Field(default=None, description=_BUDGET_HELP)
    mission_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_MISSIONS_PER_REQUEST,
        description="Missions to put in it now (each in no other epic).",
    )


class EpicEdit(PartialEdit):
    """The fields to change; ``null`` clears the target date or the budget."""

    _NULLABLE: ClassVar[frozenset[str]] = frozenset({"target_date", "budget_usd"})

    name: EpicName | None = Field(default=None, description=_NAME_HELP)
    description: Description | None = Field(default=None, description="What it is for.")
    owner: UserName | None = Field(default=None, description=_OWNER_HELP)
    target_date: IsoDate | None = Field(default=None, description=f"{_TARGET_HELP} null: none.")
    budget_usd: BudgetUsd | None = Field(default=None, description=f"{_BUDGET_HELP} null: none.")


class EpicMissions(BaseModel):
    """Missions to put in an epic, or to take out of it (1 to 100)."""

    model_config = ConfigDict(extra="forbid")

    mission_ids: MissionIds = Field(
        description="To put in: missions in no epic. To take out: missions in this epic."
    )


EpicState = Literal["active", "archived", "all"]


class EpicListQuery(BaseModel):
    """Which epics to list."""

    model_config = ConfigDict(extra="forbid")

    state: EpicState = Field("active", description="`active` (not archived), `archived`, or `all`.")


class EpicRead(BaseModel):
    """An epic, with what its missions are doing and what they spent."""

    id: uuid.UUID
    name: str
    description: str
    owner: str
    target_date: date | None
    late: bool = Field(description="Its target date has passed and a mission is not completed.")
    budget_usd: float | None = Field(description="Its budget in USD; null: none.")
    spent_usd: float = Field(description="What its missions spent, planning included.")
    over_budget: bool = Field(description="Its missions spent more than its budget.")
    missions: int = Field(description="How many missions it holds.")
    missions_by_status: dict[MissionStatus, int] = Field(
        description="Its missions by status (statuses with none left out)."
    )
    archived: bool
    archived_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class EpicMissionRow(BaseModel):
    """One mission of an epic."""

    id: uuid.UUID
    title: str
    status: MissionStatus
    spent_usd: float
    budget_usd: float | None
    added_at: datetime
    added_by: str


class TaskRollup(BaseModel):
    """The tasks of an epic's missions, as the board shows them."""

    total: int
    by_column: dict[Column, int] = Field(description="Every board column, with its count.")
    by_outcome: dict[Outcome, int] = Field(description="Ended tasks by outcome (none left out).")


class EpicRisk(BaseModel):
    """An open (or mitigating) risk of one of the epic's missions."""

    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    title: str
    severity: str
    likelihood: str
    status: str
    owner: str


class EpicApproval(BaseModel):
    """A step of one of the epic's missions waiting for a person's decision."""

    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    run_id: uuid.UUID
    step_id: str
    agent: str
    requested_at: datetime


class EpicDetail(EpicRead):
    """An epic's page: its missions, their tasks by state and outcome, risks and approvals."""

    mission_list: list[EpicMissionRow] = Field(description="Its missions, newest added first.")
    tasks: TaskRollup
    open_risks: int = Field(description="Risks of its missions that are open or mitigating.")
    risks: list[EpicRisk] = Field(description=f"The {MAX_LISTED} most severe of those.")
    approvals_waiting: int
    approvals: list[EpicApproval] = Field(description=f"The {MAX_LISTED} oldest of those.")
    board_url: str = Field(description="The board filtered to it.")


class EpicCandidate(BaseModel):
    """A mission in no epic, as a form offers it for putting in one."""

    id: uuid.UUID
    title: str
    status: MissionStatus
    created_at: datetime
