"""Replay contracts: a run as of one of its events (``GET /api/v1/runs/{id}/state``)."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from missionctl.schemas.dashboard import EventItem
from missionctl.schemas.runs import AttemptRead


class ApprovalDecisionRead(BaseModel):
    """A person's decision on a gated step."""

    seq: int = Field(description="The decision's event")
    step_id: str
    approval_id: uuid.UUID | None
    decision: str = Field(description="`approve` or `reject`")
    decided_by: str
    decided_by_user: str | None = Field(
        default=None, description="The person behind `decided_by` (an API token's owner)"
    )
    decided_at: datetime
    reason: str


class StepStateRead(BaseModel):
    """A step as of the event: its state from the events, its inputs and outputs from its row.

    ``inputs`` are shown once the step has started (the rendered inputs it was given);
    ``outputs`` once it has succeeded. Outputs are not in the events: they are the step's
    stored final outputs (a step succeeds at most once per run).
    """

    step_id: str
    agent: str
    status: str
    attempt: int
    started: bool
    finished: bool
    input_tokens: int
    output_tokens: int
    cost_usd: float
    duration_ms: int
    error: str | None
    reused_from: uuid.UUID | None = Field(description="The run whose outputs this step reused")
    approval_requested: bool
    inputs: dict[str, Any] | None = Field(description="`null` until the step has started")
    outputs: dict[str, Any] | None = Field(description="`null` until the step has succeeded")
    outputs_verified: bool | None = Field(
        default=None,
        description="`true`: the shown outputs hash to the digest the step's event recorded in "
        "the chain; `false`: they were changed after it; `null`: no outputs shown, or they were "
        "recorded before digests existed",
    )
    attempts: list[AttemptRead]


class RunStateRead(BaseModel):
    """A run rebuilt from its events up to and including the event with seq ``at``."""

    run_id: uuid.UUID
    at: int = Field(description="The seq of the last event folded (the cursor)")
    position: int = Field(description="How many of the run's events were folded (1 = the first)")
    first_seq: int
    last_seq: int
    seqs: list[int] = Field(description="Every event seq of the run, in order")
    event: EventItem = Field(description="The event at the cursor")
    status: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    steps: list[StepStateRead] = Field(description="Every step, in the run's order")
    approvals: list[ApprovalDecisionRead] = Field(description="Decisions made so far, in order")

    @property
    def previous_seq(self) -> int | None:
        """The seq of the event before the cursor, if there is one."""
        return self.seqs[self.position - 2] if self.position > 1 else None

    @property
    def next_seq(self) -> int | None:
        """The seq of the event after the cursor, if there is one."""
        return self.seqs[self.position] if self.position < len(self.seqs) else None


__all__ = ["ApprovalDecisionRead", "AttemptRead", "RunStateRead", "StepStateRead"]
