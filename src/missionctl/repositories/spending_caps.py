"""Spending caps: their rows, a period's spending and reserves, and the steps they hold (ADR 0104).

Each function takes a blocking session keyword-only and never commits: the engine's tick and
the admin's use cases write in blocking transactions; pages read through ``run_sync``. A
period's spending is read from the sums the database keeps by UTC day (``usage_days`` and the
deltas not folded yet, ADR 0048): a month of a busy system is a few hundred rows, not a scan
of its steps.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, union_all, update
from sqlalchemy.orm import Session

from missionctl.db.models import SpendingCap, StepRun, UsageDay, UsageDelta
from missionctl.domain.spending_caps import EVERY_AGENT
from missionctl.domain.states import StepRunStatus


def read_caps(session: Session) -> Sequence[SpendingCap]:
    """Every cap, by agent then period."""
    query = select(SpendingCap).order_by(SpendingCap.agent, SpendingCap.period)
    return session.scalars(query).all()


def lock_cap(session: Session, *, agent: str, period: str) -> SpendingCap | None:
    """The cap on ``agent`` per ``period``, locked until commit, or ``None``."""
    query = select(SpendingCap).where(SpendingCap.agent == agent, SpendingCap.period == period)
    return session.scalars(query.with_for_update()).first()


def lock_for_dispatch(session: Session, *, cap_id: uuid.UUID) -> None:
    """Lock a cap's row until commit, before its period's spending and reserves are read.

    Two engines claiming governed steps at once take turns here, so the second reads the
    reserves of the steps the first claimed (committed by then), not the figures before them.
    """
    session.execute(select(SpendingCap.id).where(SpendingCap.id == cap_id).with_for_update())


def read_cap(
    session: Session, *, cap_id: uuid.UUID, for_update: bool = False
) -> SpendingCap | None:
    """One cap by id (locked until commit when ``for_update``)."""
    query = select(SpendingCap).where(SpendingCap.id == cap_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


class _Shape(StrEnum):
    """How a cap's agent selects the rows it governs: all, a kind's, or one agent's."""

    every = "every"
    kind = "kind"
    exact = "exact"


def _shape(agent: str) -> tuple[_Shape, str]:
    """The shape of the cap on ``agent``, and the value its statement is given.

    That is a LIKE pattern for a kind (its ``%`` and ``_`` escaped), the name for an agent.
    """
    if agent == EVERY_AGENT:
        return _Shape.every, ""
    kind, _, rest = agent.partition(":")
    if rest == "*":
        escaped = kind.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return _Shape.kind, f"{escaped}:%"
    return _Shape.exact, agent


def _governed(column: Any, shape: _Shape) -> list[ColumnElement[bool]]:
    """The condition on an agent column for a cap of ``shape`` (bound to ``agent``)."""
    if shape is _Shape.every:
        return []
    if shape is _Shape.kind:
        return [column.like(bindparam("agent"), escape="\\")]
    return [column == bindparam("agent")]


# Built once per shape: the claim asks for these in every dispatch while caps are set, and
# building and compiling the statement again would cost more than the query.
@lru_cache(maxsize=3)
def _spent_statement(shape: _Shape) -> Select[Any]:
    parts = [
        select(table.cost_micros).where(
            table.day >= bindparam("first"),
            table.day < bindparam("end"),
            *_governed(table.agent, shape),
        )
        for table in (UsageDay, UsageDelta)
    ]
    usage = union_all(*parts).subquery("usage")
    return select(func.coalesce(func.sum(usage.c.cost_micros), 0))


@lru_cache(maxsize=3)
def _reserved_statement(shape: _Shape) -> Select[Any]:
    return select(func.coalesce(func.sum(StepRun.reserve_micros), 0)).where(
        StepRun.status == StepRunStatus.running, *_governed(StepRun.agent, shape)
    )


def period_spent(session: Session, *, agent: str, first: date, end: date) -> int:
    """What the steps the cap on ``agent`` governs spent on UTC days ``[first, end)``."""
    shape, value = _shape(agent)
    params: dict[str, Any] = {"first": first, "end": end, "agent": value}
    return int(session.execute(_spent_statement(shape), params).scalar_one())


def running_reserved(session: Session, *, agent: str) -> int:
    """The reserves of the running steps the cap on ``agent`` governs (the most they may cost)."""
    shape, value = _shape(agent)
    return int(session.execute(_reserved_statement(shape), {"agent": value}).scalar_one())


def lock_held_steps(session: Session) -> Sequence[StepRun]:
    """The queued steps a cap holds, locked until commit (rows locked elsewhere are skipped)."""
    query = (
        select(StepRun)
        .where(
            StepRun.status == StepRunStatus.queued,
            StepRun.hold_reason.is_not(None),
            StepRun.hold_cap_id.is_not(None),
        )
        .order_by(StepRun.queued_at, StepRun.id)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).all()


def count_held_by_cap(session: Session) -> dict[uuid.UUID, int]:
    """How many queued steps each cap holds, by cap id."""
    query = (
        select(StepRun.hold_cap_id, func.count())
        .where(
            StepRun.status == StepRunStatus.queued,
            StepRun.hold_reason.is_not(None),
            StepRun.hold_cap_id.is_not(None),
        )
        .group_by(StepRun.hold_cap_id)
    )
    return {cap_id: int(count) for cap_id, count in session.execute(query) if cap_id is not None}


def mark_notified(
    session: Session, *, cap_id: uuid.UUID, period: date, level: str, ranks: Sequence[str | None]
) -> bool:
    """Record that ``level`` was announced for the cap's period, unless it already was.

    ``ranks`` are the levels below ``level``: the row moves only from one of them in the same
    period, or from any level of an earlier period, so two engines announce a level once.

    Returns:
        Whether this call moved the row (and so should announce it).
    """
    lower = [r for r in ranks if r is not None]
    same_period_lower = (SpendingCap.notified_period == period) & (
        SpendingCap.notified_level.is_(None) | SpendingCap.notified_level.in_(lower)
    )
    earlier = SpendingCap.notified_period.is_(None) | (SpendingCap.notified_period < period)
    statement = (
        update(SpendingCap)
        .where(SpendingCap.id == cap_id, same_period_lower | earlier)
        .values(notified_period=period, notified_level=level)
    )
    return bool(session.connection().execute(statement).rowcount)
