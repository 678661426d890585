"""Spending cap contracts: what an admin sends to set one, and what everyone reads back (ADR 0104).

A cap limits what some agents' steps may spend per UTC day or month: an agent's name
(``llm:writer``), a kind (``llm:*``) or ``*`` for every agent. Unknown fields are refused; a bad
agent, period or amount is a 422 naming its field.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from missionctl.domain.spending_caps import Level, Period
from missionctl.schemas.missions import BUDGET_MAX_USD, USD_TEXT, usd_json_schema

AGENT_MAX_CHARS = 200
CapUsd = Annotated[
    Decimal,
    Field(gt=0, le=BUDGET_MAX_USD, decimal_places=6),
    USD_TEXT,
    usd_json_schema(int(BUDGET_MAX_USD)),
]
"""A cap in US dollars: more than 0, at most 1,000,000, at most 6 decimal places."""
CapAgent = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=AGENT_MAX_CHARS,
        pattern=r"^(\*|[a-z][a-z0-9_-]*(:(\*|[A-Za-z0-9_.-]+))?)$",
    ),
]

_AGENT_HELP = (
    "The agent whose steps it caps: a name (llm:writer), a kind (llm:*) or * for every agent."
)


class SpendingCapSet(BaseModel):
    """A cap to set: a new one, or a new amount for the cap on that agent and period."""

    model_config = ConfigDict(extra="forbid")

    agent: CapAgent = Field(description=_AGENT_HELP)
    period: Period = Field(description="The UTC period it counts over: day or month.")
    cap_usd: CapUsd = Field(
        description="What the agent's steps may spend in one period, in US dollars (more than "
        "0, at most 1000000, at most 6 decimal places).",
    )


class SpendingCapRead(BaseModel):
    """A cap with its period's spending now: what is left, reserved and held."""

    id: uuid.UUID
    agent: str = Field(description=_AGENT_HELP)
    period: Period
    cap_usd: float
    period_start: date = Field(description="The first UTC day of the current period.")
    reopens_at: datetime = Field(description="When the current period ends (UTC midnight).")
    spent_usd: float = Field(description="What the governed steps spent in the period so far.")
    reserved_usd: float = Field(
        description="The most the governed running steps may still cost (their reserves)."
    )
    left_usd: float = Field(description="The cap less what was spent (never below 0).")
    share: float = Field(description="Spent over cap (1.0 is the whole cap).")
    level: Level | None = Field(
        description="warning: at least 80 % spent; reached: the cap is spent, or holds steps back."
    )
    held_steps: int = Field(description="Queued steps it holds back now.")
    updated_by: str
    updated_at: datetime
