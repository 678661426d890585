"""The task board: every task of the newest missions as a card in the column of its state."""

import uuid

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.board import Column
from missionctl.domain.outcomes import Outcome
from missionctl.domain.states import StepRunStatus
from missionctl.schemas.missions import NO_NUL_PATTERN

MAX_BOARD_MISSIONS = 100
"""The most missions one board shows (the newest first)."""
DEFAULT_MISSIONS = 30
FILTER_CHARS = 100


class BoardQuery(BaseModel):
    """Which cards to show; every filter given must hold (AND)."""

    model_config = ConfigDict(extra="forbid")

    mission_id: uuid.UUID | None = Field(None, description="One mission's tasks.")
    epic_id: uuid.UUID | None = Field(None, description="The tasks of one epic's missions.")
    agent: str | None = Field(
        None,
        max_length=FILTER_CHARS,
        pattern=NO_NUL_PATTERN,
        description="Tasks whose step runs with this agent.",
    )
    role: str | None = Field(
        None, max_length=FILTER_CHARS, pattern=NO_NUL_PATTERN, description="Tasks of this role."
    )
    outcome: Outcome | None = Field(None, description="Tasks that ended with this outcome.")
    missions: int = Field(
        DEFAULT_MISSIONS,
        ge=1,
        le=MAX_BOARD_MISSIONS,
        description="How many of the newest missions to show.",
    )


class BoardCard(BaseModel):
    """One task: its mission, its plan words, and its step's state in the shown run."""

    mission_id: uuid.UUID
    mission_title: str
    run_id: uuid.UUID | None = Field(description="The run whose step it is; null: not run yet.")
    key: str
    title: str
    role: str | None
    agent: str | None
    column: Column
    status: StepRunStatus | None = Field(description="The step's status; null: not run yet.")
    outcome: Outcome | None = Field(description="What it produced, once it ended.")
    attempt: int


class BoardColumn(BaseModel):
    """A column of the board and its cards, newest mission first, then in plan order."""

    name: Column
    label: str
    cards: list[BoardCard]


class BoardRead(BaseModel):
    """The board: every column (empty ones too), and how much of the record it covers."""

    columns: list[BoardColumn]
    missions: int = Field(
        description="Missions read (the newest, of the epic if one is named, as `missions` asked)."
    )
    more_missions: bool = Field(description="Whether older missions were left out.")
