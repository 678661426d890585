"""Workflow contracts: a DAG of steps, as written by hand or compiled from a plan."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.schemas.plans import RiskTier

STEP_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
StepId = Annotated[str, StringConstraints(pattern=STEP_ID_PATTERN)]
AgentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)?$")]


class RetrySpec(BaseModel):
    """How often a failed step is tried again, and how long to wait in between."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=20, description="Including the first.")
    backoff_s: float = Field(default=1.0, ge=0, le=3600)
    max_backoff_s: float = Field(default=60.0, ge=0, le=86_400)
    jitter: bool = True


class StepSpec(BaseModel):
    """One step of a workflow."""

    model_config = ConfigDict(extra="forbid")

    id: StepId
    agent: AgentName = Field(description="`builtin:<role>`, `llm:<role>`, `command`, …")
    inputs: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[StepId] = Field(default_factory=list)
    risk_tier: RiskTier = "read"
    estimate_tokens: int = Field(default=0, ge=0, le=10_000_000)
    timeout_s: float = Field(default=600.0, gt=0, le=86_400)
    retry: RetrySpec = Field(default_factory=RetrySpec)


class WorkflowSpec(BaseModel):
    """A workflow definition; saving it creates a new version."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    steps: list[StepSpec] = Field(min_length=1, max_length=5000)
    max_concurrency: int | None = Field(default=None, ge=1, le=1000)
    budget_usd: Decimal | None = Field(default=None, ge=0, le=1_000_000, decimal_places=6)


class WorkflowRead(BaseModel):
    """A stored workflow version."""

    id: uuid.UUID
    name: str
    version: int
    mission_id: uuid.UUID | None
    definition: WorkflowSpec
    created_by: str
    created_at: datetime
