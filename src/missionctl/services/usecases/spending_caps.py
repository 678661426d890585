"""Spending caps per agent and per UTC day or month: list, set, remove (ADR 0104).

Setting or removing a cap is one blocking transaction: it takes the controls' row first, as
every change to what governs dispatch does (so a tick deciding with the old caps finishes
before, and the next reads the new ones: the controls' version moves), writes the cap with its
event (``spending_cap.set``, ``spending_cap.removed``), and releases the steps held by a cap
that would now let them fit (``step.released``); the engine then claims them, or holds them
again with the new figures. Only admins change caps; anyone who reads costs reads them.
"""

import uuid
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from missionctl.db.models import Control
from missionctl.db.models import SpendingCap as CapRow
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.spending_caps import (
    EVERY_AGENT,
    MAX_CAPS,
    Level,
    Period,
    SpendingCap,
    level_of,
    period_start,
    reopens_at,
)
from missionctl.errors import Conflict, NotFound, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.repositories import spending_caps as repo
from missionctl.schemas.spending_caps import SpendingCapRead, SpendingCapSet
from missionctl.services.runtime.composition import agent_is_known, known_agent_names
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.execution.caps import release_holds, spent_in_period
from missionctl.services.usecases.execution.types import read_caps
from missionctl.services.usecases.money import micros_to_usd, usd_to_micros

__all__ = ["list_caps", "remove_cap", "set_cap"]


async def list_caps(ctx: ServiceContext) -> list[SpendingCapRead]:
    """Every cap with its current period's spending, reserves, level and held steps."""
    async with ctx.read() as session:
        return await session.run_sync(_read_all)


def _read_all(session: Session) -> list[SpendingCapRead]:
    held = repo.count_held_by_cap(session)
    return [_read(session, row, held.get(row.id, 0)) for row in repo.read_caps(session)]


def _read(session: Session, row: CapRow, held: int) -> SpendingCapRead:
    """One cap as people read it, its figures as of now."""
    now = utcnow()
    period = Period(row.period)
    cap = SpendingCap(row.id, row.agent, period, row.cap_micros)
    spent = spent_in_period(session, cap, now)
    level = Level.reached if held else level_of(cap=row.cap_micros, spent=spent)
    return SpendingCapRead(
        id=row.id,
        agent=row.agent,
        period=period,
        cap_usd=micros_to_usd(row.cap_micros),
        period_start=period_start(period, now),
        reopens_at=reopens_at(period, now),
        spent_usd=micros_to_usd(spent),
        reserved_usd=micros_to_usd(repo.running_reserved(session, agent=row.agent)),
        left_usd=micros_to_usd(max(0, row.cap_micros - spent)),
        share=round(spent / row.cap_micros, 4) if row.cap_micros else 1.0,
        level=level,
        held_steps=held,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _check_agent(agent: str) -> None:
    """Refuse an agent no workflow step may name, and a kind no agent has."""
    if agent == EVERY_AGENT:
        return
    if agent in known_agent_names() if agent.endswith(":*") else agent_is_known(agent):
        return
    known = ", ".join(["*", *known_agent_names()])
    problem = f"no agent {agent!r}; name an agent, a kind (llm:*) or * for every agent: {known}"
    raise ValidationFailed([Problem("agent", problem)])


async def set_cap(ctx: ServiceContext, *, data: SpendingCapSet, actor: str) -> SpendingCapRead:
    """Set the cap on ``data.agent`` per ``data.period`` (a new cap, or a new amount).

    Raises:
        ValidationFailed: an agent no step may name, or a new cap past ``MAX_CAPS``.
    """
    _check_agent(data.agent)
    cap_micros = usd_to_micros(data.cap_usd)

    def work(session: Session) -> SpendingCapRead:
        _lock_controls(session)
        row = repo.lock_cap(session, agent=data.agent, period=data.period.value)
        was = None if row is None else row.cap_micros
        if row is None:
            if len(repo.read_caps(session)) >= MAX_CAPS:
                problem = f"{MAX_CAPS} caps are set, the most there may be; remove one first"
                raise ValidationFailed([Problem("agent", problem)])
            row = CapRow(agent=data.agent, period=data.period.value, cap_micros=cap_micros)
            session.add(row)
        row.cap_micros, row.updated_by, row.updated_at = cap_micros, actor, utcnow()
        if was is not None and cap_micros > was:
            row.notified_level = None  # raised: its levels are announced again as it fills
        session.flush()
        event = _event(ev.SPENDING_CAP_SET, row, actor, was_micros=was)
        _commit_change(session, event, actor)
        return _read(session, row, repo.count_held_by_cap(session).get(row.id, 0))

    try:
        return await ctx.write_blocking(work)
    except sa_exc.IntegrityError:
        raise Conflict(
            f"a cap on {data.agent} per {data.period.value} was set at the same time; "
            "read the caps and try again",
            field="agent",
        ) from None


async def remove_cap(ctx: ServiceContext, *, cap_id: uuid.UUID, actor: str) -> SpendingCapRead:
    """Remove a cap; the steps it held are released. Returns it as it was.

    Raises:
        NotFound: no cap has that id.
    """

    def work(session: Session) -> SpendingCapRead:
        _lock_controls(session)
        row = repo.read_cap(session, cap_id=cap_id, for_update=True)
        if row is None:
            raise NotFound(f"no spending cap {cap_id}; see `missionctl caps list`", field="cap_id")
        gone = _read(session, row, repo.count_held_by_cap(session).get(row.id, 0))
        event = _event(ev.SPENDING_CAP_REMOVED, row, actor)
        session.delete(row)
        session.flush()
        _commit_change(session, event, actor)
        return gone

    return await ctx.write_blocking(work)


def _lock_controls(session: Session) -> None:
    """Take the controls' row for the change, and move its version (engines re-read caps)."""
    controls = session.get(Control, 1, with_for_update=True)
    if controls is not None:
        controls.version += 1


def _commit_change(session: Session, event: NewEvent, actor: str) -> None:
    """Append the change's event and release the steps the caps now let fit."""
    events = [event]
    events += release_holds(session, read_caps(session), utcnow(), actor=actor, why="cap")
    append_sync(session, events)


def _event(kind: str, row: CapRow, actor: str, **extra: Any) -> NewEvent:
    payload = {
        "cap_id": str(row.id),
        "agent": row.agent,
        "period": row.period,
        "cap_micros": row.cap_micros,
        **extra,
    }
    return NewEvent(type=kind, actor=actor, payload=payload)
