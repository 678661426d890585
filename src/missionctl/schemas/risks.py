"""A run's step risks as read: each step's chance of failing, timing out, overrunning (ADR 0118)."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class RunningRiskRead(BaseModel):
    """A running attempt's estimate, narrowed by how long it has run and its inputs' size."""

    elapsed_s: float = Field(description="How long the attempt had run when this was read.")
    chances: dict[str, float] = Field(
        description="Each risk's chance now, 0 to 1 (fail and timeout narrowed; over_estimate "
        "as at dispatch)."
    )
    reasons: list[str] = Field(
        description="Which of the step's earlier attempts moved it, with the counts."
    )
    made_at: datetime


class StepRiskRead(BaseModel):
    """The latest estimate for one step of a run, with the reasons that drove it."""

    step_id: str
    attempt: int = Field(description="The attempt it was made for (1 before the first starts).")
    chances: dict[str, float] = Field(
        description="Each risk's chance, 0 to 1: fail (the attempt does not succeed), timeout "
        "(it runs out of time), over_estimate (it costs more than the step's estimate; absent "
        "for a step without one)."
    )
    reasons: list[str] = Field(description="What moved the estimate most, with the counts.")
    evidence: int = Field(description="The step's own attempts in the history behind it.")
    sure: bool = Field(
        description="Whether the step's own history is enough to act on (an alert needs it)."
    )
    at_risk: bool = Field(description="The chance of failing reaches the alert threshold.")
    made_at: datetime
    now: RunningRiskRead | None = Field(
        default=None,
        description="While the attempt runs: the estimate as of this read (not alerted on).",
    )


class RunRisks(BaseModel):
    """The estimates of a run's steps that have not ended, and the alert threshold."""

    run_id: uuid.UUID
    alert_at: float = Field(
        description="MISSIONCTL_RISK_ALERT_AT: the chance of failing that alerts."
    )
    steps: list[StepRiskRead]


class StepAtRisk(BaseModel):
    """A step of a run still going on whose attempt was alerted as likely to fail."""

    run_id: uuid.UUID
    workflow: str
    risk: StepRiskRead
