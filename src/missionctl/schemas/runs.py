"""Run contracts."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from missionctl.domain.states import RunStatus, StepRunStatus


class StepRunRead(BaseModel):
    """One step's execution record."""

    id: uuid.UUID
    step_id: str
    agent: str
    status: StepRunStatus
    attempt: int
    risk_tier: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    error: str | None
    hold_reason: str | None = Field(
        default=None,
        description="Why a queued step is held back: its agent is disabled or not allowed "
        "its risk tier.",
    )
    input_tokens: int
    output_tokens: int
    cost_usd: float
    started_at: datetime | None
    ended_at: datetime | None


class RunRead(BaseModel):
    """A run and its steps."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    mission_id: uuid.UUID | None
    trigger: str
    status: RunStatus
    budget_usd: float | None
    spent_usd: float
    reserved_usd: float = Field(
        default=0.0,
        description="What the running steps of a capped run may still spend: the sum of their "
        "reserves (each step's token limit at its model's highest token price). Dispatch keeps "
        "spent + reserved within the cap; a step's actual cost replaces its reserve when it ends.",
    )
    input_tokens: int
    output_tokens: int
    error: str | None
    rerun_of: uuid.UUID | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    steps: list[StepRunRead] = Field(default_factory=list)
