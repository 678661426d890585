"""Spending caps per agent and per UTC period, as pure rules (ADR 0104).

Which cap governs a step, its UTC period, and what the engine says when it holds a step.

A cap limits what the steps of some agents may spend in one UTC day or one UTC month: an
exact agent (``llm:writer``), a kind (``llm:*``) or every agent (``*``). Spending is dated as
the cost breakdowns date it (a step's cost on the UTC day it ended). The engine enforces a cap
at dispatch with the rule run budgets use: a step of a capped agent is claimed only if the
period's spending + the reserves of the agent's running steps + the step's own reserve (the
most it may cost) fit the cap. A step that could not fit even with nothing running is held,
with a reason naming the cap, what is left and who may raise it, until the period turns or an
admin raises or removes the cap. Only steps paid by the token (``llm:<role>``) are governed.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from missionctl.domain.money import micros_text

EVERY_AGENT: Final = "*"
"""The agent a global cap names: every agent's spending counts against it."""

WARNING_SHARE: Final = 0.8
"""A cap's warning is recorded when its period's spending first reaches this share of it."""

MAX_CAPS: Final = 200
"""How many caps may be set: each is read on every dispatch that might be held by one."""

RAISE_HINT: Final = "an admin may raise it (missionctl caps set, or Settings → Spending caps)"


class Period(StrEnum):
    """The UTC period a cap's spending is counted over."""

    day = "day"
    month = "month"


class Level(StrEnum):
    """How far a period's spending has gone against its cap (each recorded once a period)."""

    warning = "warning"  # at least ``WARNING_SHARE`` of the cap
    reached = "reached"  # the cap holds steps back (or spending reached it)


LEVEL_RANK: Final = {None: 0, Level.warning: 1, Level.reached: 2}


@dataclass(frozen=True, slots=True)
class SpendingCap:
    """A cap as the engine reads it."""

    id: uuid.UUID
    agent: str
    period: Period
    cap_micros: int

    @property
    def label(self) -> str:
        """The cap in words: ``llm:writer per UTC day ($5.00)``."""
        who = "all agents" if self.agent == EVERY_AGENT else self.agent
        return f"{who} per UTC {self.period.value} ({micros_text(self.cap_micros)})"

    def governs(self, agent: str) -> bool:
        """Whether steps of ``agent`` count against this cap (and may be held by it)."""
        if self.agent in (EVERY_AGENT, agent):
            return True
        kind, _, rest = self.agent.partition(":")
        return rest == "*" and agent.partition(":")[0] == kind


def period_start(period: Period, now: datetime) -> date:
    """The first UTC day of the period ``now`` is in."""
    day = now.astimezone(UTC).date()
    return day if period is Period.day else day.replace(day=1)


def period_end(period: Period, now: datetime) -> date:
    """The first UTC day after the period ``now`` is in (the period is ``[start, end)``)."""
    start = period_start(period, now)
    if period is Period.day:
        return start + timedelta(days=1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def reopens_at(period: Period, now: datetime) -> datetime:
    """When the period ``now`` is in ends: UTC midnight of its end day."""
    return datetime.combine(period_end(period, now), time(0), tzinfo=UTC)


def fits(*, cap: int, spent: int, reserved: int, reserve: int) -> bool:
    """Whether reserving ``reserve`` more keeps spent + reserved within ``cap``."""
    return spent + reserved + reserve <= cap


def level_of(*, cap: int, spent: int) -> Level | None:
    """The level ``spent`` stands at against ``cap``."""
    if spent >= cap:
        return Level.reached
    if spent >= math.ceil(cap * WARNING_SHARE):
        return Level.warning
    return None


def hold_text(cap: SpendingCap, *, spent: int, reserve: int, now: datetime) -> str:
    """Why a step is held by ``cap``: which cap, what is left, when it reopens, who may raise."""
    left = max(0, cap.cap_micros - spent)
    opens = reopens_at(cap.period, now).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"spending cap on {cap.label}: {micros_text(left)} left this "
        f"{cap.period.value} and this step may cost up to {micros_text(reserve)}; it reopens "
        f"at {opens}, or {RAISE_HINT}"
    )


def unbounded_text(cap: SpendingCap) -> str:
    """Why a step with no token limit is held under ``cap``: its cost has no bound."""
    return (
        f"spending cap on {cap.label}: the step has no estimate_tokens, so nothing "
        "bounds what it may cost; give it estimate_tokens (its token limit), or an admin may "
        "remove the cap (missionctl caps remove, or Settings → Spending caps)"
    )
