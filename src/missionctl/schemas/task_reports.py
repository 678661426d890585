"""What an agent working from a mission's pack reports about one task, and the record of it.

A coding agent that works outside the engine (from the AI execution pack, over MCP) says how
far it got with a task (``TaskProgress``) and how it ended (``TaskResult``); each report is one
event of the mission (``task.progress``, ``task.reported``), read back as ``TaskReportRead``.
"""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text

MESSAGE_MAX_CHARS = 2000
SUMMARY_MAX_CHARS = 8000
TASK_KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"

TaskKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=63, pattern=TASK_KEY_PATTERN),
]
Message = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MESSAGE_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(MESSAGE_MAX_CHARS),
]
Summary = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=SUMMARY_MAX_CHARS, pattern=NO_NUL_PATTERN
    ),
    plain_text(SUMMARY_MAX_CHARS),
]
TaskOutcome = Literal["done", "failed"]


class TaskProgress(BaseModel):
    """How far an agent got with one task of a mission's newest plan."""

    model_config = ConfigDict(extra="forbid")

    task_key: TaskKey = Field(description="The task's key in the mission's plan, e.g. `api`.")
    message: Message = Field(description="What was done or is being done, in a sentence.")
    percent: int | None = Field(
        default=None, ge=0, le=100, description="How much of the task is done, 0 to 100."
    )


class TaskResult(BaseModel):
    """How one task of a mission's newest plan ended, by the agent's account."""

    model_config = ConfigDict(extra="forbid")

    task_key: TaskKey = Field(description="The task's key in the mission's plan.")
    status: TaskOutcome = Field(description="`done` or `failed`.")
    summary: Summary = Field(description="What was done, or why it failed.")


class TaskReportRead(BaseModel):
    """A report as recorded: the event that holds it."""

    seq: int = Field(description="The event's position in the log.")
    type: str = Field(description="`task.progress` or `task.reported`.")
    mission_id: uuid.UUID
    task_key: str
    plan_version: int
    actor: str
    ts: datetime
