"""ORM classes of the step-risk follower (ADR 0118, revision 0045).

- :class:`StepAttemptDay`: the attempts of one step of one workflow, run by one agent on one
  model, that ended on one UTC day, and how many failed, timed out or cost more than their estimate
  (first attempts and later ones apart): the history the estimates are made from;
- :class:`StepRisk`: the latest estimate of one step of one run, with its reasons.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from missionctl.db.base import Base


class StepAttemptDay(Base):
    """Attempts of one step (``workflow``, ``step_id``) by ``agent`` ended on ``day``, counted.

    ``later``: second and later attempts (a retry), counted apart from first ones; ``model``:
    the model an ``llm:`` step's attempts ran on (empty for other agents, and for attempts
    counted before revision 0049).
    """

    __tablename__ = "step_attempt_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(200), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    agent: Mapped[str] = mapped_column(String(200), primary_key=True)
    later: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True, server_default="")
    attempts: Mapped[int]
    failed: Mapped[int]
    timed_out: Mapped[int]
    over_estimate: Mapped[int]


class StepRisk(Base):
    """The latest estimate for one step of one run: before it is dispatched, then per retry.

    ``chances`` maps each risk (``domain.prediction.RISKS``) to its chance (0 to 1);
    ``evidence``: the step's own attempts behind it; ``alerted_attempt``: the attempt a
    ``step.at_risk`` was appended for, if any (one alert per attempt).
    """

    __tablename__ = "step_risks"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer)
    fail: Mapped[float] = mapped_column(Float)
    chances: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[int]
    made_at: Mapped[datetime]
    alerted_attempt: Mapped[int | None] = mapped_column(Integer)
