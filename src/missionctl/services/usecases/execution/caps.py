"""Spending caps at dispatch: the book a claim keeps, holds, releases and the levels announced.

The rule (ADR 0104, ``domain.spending_caps``): a step paid by the token is claimed only if, for
every cap that governs its agent, the period's spending + the reserves of the governed running
steps + the step's own reserve fit the cap. A step that would not fit even with nothing running
is held (``step.held``, with the cap in its reason) and the cap is announced as reached; one
that fits once running steps report waits in the queue. Holds end when the cap's period turns
(the engine's first tick of a new UTC day looks) or when an admin changes the caps (in the
same transaction): ``step.released``, and the claim judges the step again.

Spending reaching 80 % of a cap, and the cap holding a step, are each announced once a period
(``spending_cap.warning``, ``spending_cap.reached``), whichever engine sees it first.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from missionctl.domain import events as ev
from missionctl.domain.budget import charges_tokens
from missionctl.domain.spending_caps import (
    LEVEL_RANK,
    Level,
    SpendingCap,
    fits,
    hold_text,
    level_of,
    period_end,
    period_start,
    unbounded_text,
)
from missionctl.eventlog import NewEvent
from missionctl.repositories import spending_caps as repo
from missionctl.services.usecases.execution.types import ENGINE_ACTOR

__all__ = ["CapBook", "CapHold", "note_spending", "release_holds"]


@dataclass(frozen=True, slots=True)
class CapHold:
    """Why a step is held: the cap, and the figures its ``step.held`` event carries.

    ``reached`` is false for a step held because nothing bounds its cost (no token limit):
    that says nothing of the cap's spending.
    """

    cap: SpendingCap
    reason: str
    spent_micros: int
    reserve_micros: int
    reached: bool = True


def spent_in_period(session: Session, cap: SpendingCap, now: datetime) -> int:
    """What the steps ``cap`` governs spent in its period so far."""
    first, end = period_start(cap.period, now), period_end(cap.period, now)
    return repo.period_spent(session, agent=cap.agent, first=first, end=end)


class CapBook:
    """What one dispatch may still spend under each cap, read the first time a cap is asked.

    Attributes:
        holds: The caps' holds decided so far, by step run id.
    """

    def __init__(self, session: Session, caps: Sequence[SpendingCap], now: datetime) -> None:
        self._session = session
        self._caps = caps
        self._now = now
        self._spent: dict[uuid.UUID, int] = {}
        self._reserved: dict[uuid.UUID, int] = {}

    def governing(self, agent: str) -> list[SpendingCap]:
        """The caps a step of ``agent`` must fit (none for agents not paid by the token)."""
        if not self._caps or not charges_tokens(agent):
            return []
        return [cap for cap in self._caps if cap.governs(agent)]

    def judge(self, agent: str, reserve: int, *, bounded: bool) -> CapHold | bool:
        """Whether a step may be claimed now (``True``), later (``False``), or is held.

        Claiming it is not recorded here: call :meth:`take` once it is claimed.
        """
        waits = False
        for cap in self.governing(agent):
            if not bounded:
                return CapHold(cap, unbounded_text(cap), 0, reserve, reached=False)
            spent = self._spent_of(cap)
            if not fits(cap=cap.cap_micros, spent=spent, reserved=0, reserve=reserve):
                reason = hold_text(cap, spent=spent, reserve=reserve, now=self._now)
                return CapHold(cap, reason, spent, reserve)
            reserved = self._reserved_of(cap)
            waits = waits or not fits(
                cap=cap.cap_micros, spent=spent, reserved=reserved, reserve=reserve
            )
        return not waits

    def take(self, agent: str, reserve: int) -> None:
        """Count a claimed step's reserve against every cap that governs its agent."""
        for cap in self.governing(agent):
            self._reserved[cap.id] = self._reserved_of(cap) + reserve

    def _spent_of(self, cap: SpendingCap) -> int:
        self._read(cap)
        return self._spent[cap.id]

    def _reserved_of(self, cap: SpendingCap) -> int:
        self._read(cap)
        return self._reserved[cap.id]

    def _read(self, cap: SpendingCap) -> None:
        """Read a cap's figures once per dispatch, under its row's lock (held until commit)."""
        if cap.id in self._spent:
            return
        repo.lock_for_dispatch(self._session, cap_id=cap.id)
        self._spent[cap.id] = spent_in_period(self._session, cap, self._now)
        self._reserved[cap.id] = repo.running_reserved(self._session, agent=cap.agent)


def announce(
    session: Session,
    cap: SpendingCap,
    level: Level,
    *,
    spent: int,
    now: datetime,
    **where: Any,
) -> NewEvent | None:
    """The event announcing that ``cap`` stands at ``level`` this period, once a period.

    ``None`` when this level (or a higher one) was announced already in the period.
    """
    first = period_start(cap.period, now)
    lower = [name for name, rank in LEVEL_RANK.items() if rank < LEVEL_RANK[level]]
    if not repo.mark_notified(session, cap_id=cap.id, period=first, level=level.value, ranks=lower):
        return None
    kind = ev.SPENDING_CAP_REACHED if level is Level.reached else ev.SPENDING_CAP_WARNING
    payload = {
        "cap_id": str(cap.id),
        "agent": cap.agent,
        "period": cap.period.value,
        "period_start": first.isoformat(),
        "spent_micros": spent,
        "cap_micros": cap.cap_micros,
        "share": round(spent / cap.cap_micros, 4) if cap.cap_micros else 1.0,
    }
    run_id = where.pop("run_id", None)
    return NewEvent(
        type=kind,
        actor=ENGINE_ACTOR,
        run_id=run_id,
        step_id=where.get("step_id"),
        payload={**payload, **{k: v for k, v in where.items() if v is not None}},
    )


def note_spending(
    session: Session,
    caps: Sequence[SpendingCap],
    agents: Collection[str],
    now: datetime,
) -> list[NewEvent]:
    """Announce the caps that spending by ``agents`` (just recorded) took to a new level."""
    events = []
    for cap in caps:
        if not any(cap.governs(agent) for agent in agents):
            continue
        spent = spent_in_period(session, cap, now)
        level = level_of(cap=cap.cap_micros, spent=spent)
        if level is not None and (event := announce(session, cap, level, spent=spent, now=now)):
            events.append(event)
    return events


def release_holds(
    session: Session, caps: Sequence[SpendingCap], now: datetime, *, actor: str, why: str
) -> list[NewEvent]:
    """Release the held steps whose cap is gone or would now let them fit with nothing running.

    ``why`` is ``period`` (the engine, at a new UTC day) or ``cap`` (an admin changed the caps).
    A released step is claimed, or held again, by the claim that next reads it.
    """
    by_id = {cap.id: cap for cap in caps}
    spent: dict[uuid.UUID, int] = {}
    events = []
    for step in repo.lock_held_steps(session):
        cap = by_id.get(step.hold_cap_id) if step.hold_cap_id is not None else None
        if cap is not None:
            if cap.id not in spent:
                spent[cap.id] = spent_in_period(session, cap, now)
            room = fits(
                cap=cap.cap_micros, spent=spent[cap.id], reserved=0, reserve=step.reserve_micros
            )
            if not room:
                continue
        events.append(
            NewEvent(
                type=ev.STEP_RELEASED,
                actor=actor,
                run_id=step.run_id,
                step_id=step.step_id,
                payload={
                    "attempt": step.attempt,
                    "was": step.hold_reason,
                    "cap_id": str(step.hold_cap_id),
                    "why": why,
                },
            )
        )
        step.hold_reason = None
        step.hold_cap_id = None
    session.flush()
    return events
