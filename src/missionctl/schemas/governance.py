"""Governance contracts: approvals, the emergency stop, agent restrictions."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.schemas.missions import plain_text
from missionctl.schemas.plans import RiskTier

ApprovalDecision = Literal["approved", "rejected"]
ApprovalState = Literal["pending", "approved", "rejected", "withdrawn"]
# Checked as sent (length, no NUL: PostgreSQL refuses it in text), then stripped.
Reason = Annotated[str, plain_text(2000), StringConstraints(strip_whitespace=True, max_length=2000)]


class ApprovalRead(BaseModel):
    """A request for a person's decision on one step, and the decision once made.

    ``state`` is ``withdrawn`` when the step stopped waiting without a decision (its run was
    canceled or aborted).
    """

    id: uuid.UUID
    state: ApprovalState
    run_id: uuid.UUID
    run_status: str
    mission_id: uuid.UUID | None
    workflow: str
    step_run_id: uuid.UUID
    step_id: str
    attempt: int
    agent: str
    risk_tier: str
    inputs: dict[str, Any] = Field(description="Exactly what the step runs with.")
    action: str = Field(
        description="What will run, in one line: the command line, the prompt, or the URL."
    )
    estimate_usd: float
    requested_at: datetime
    decision: ApprovalDecision | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class ApprovalDecide(BaseModel):
    """A decision's reason: optional to approve, required to reject."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""


class ControlsRead(BaseModel):
    """The system-wide controls: whether the emergency stop is on, since when and by whom."""

    emergency_stop: bool
    stopped_by: str | None
    stopped_at: datetime | None
    reason: str | None


class EmergencyStop(BaseModel):
    """Why everything is being stopped (or released)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""


class EmergencyStopResult(BaseModel):
    """The controls after a stop, and the runs it aborted."""

    controls: ControlsRead
    aborted_runs: list[uuid.UUID]
    canceled_steps: int


class AgentRead(BaseModel):
    """An agent (or a kind of agent, ``llm:*``) and its restrictions."""

    name: str
    kind: str
    enabled: bool
    allowed_risk_tiers: list[RiskTier] = Field(description="Empty: every tier is allowed.")
    held_steps: int = Field(description="Queued steps held back by this agent's restrictions.")
    updated_at: datetime | None


class AgentUpdate(BaseModel):
    """A change to an agent's restrictions; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    allowed_risk_tiers: list[RiskTier] | None = Field(
        default=None, description="Empty list: every tier is allowed."
    )
