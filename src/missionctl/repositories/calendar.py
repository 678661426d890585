"""The calendar's reads: runs counted by quarter hour and status, and a day's first runs.

Counts are grouped by the quarter hour (UTC) a run was created in: every time zone's offset
is a whole number of quarter hours, so each bucket falls on one viewer's day whatever the
zone, and a window of six weeks is at most 4,032 buckets per status however many runs it
holds. Each function takes a blocking session keyword-only and never commits.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from missionctl.db.models import Mission, Run, Workflow


class QuarterCount(NamedTuple):
    """How many runs of ``status`` were created in the quarter hour from ``start`` (UTC)."""

    start: datetime
    status: str
    runs: int


class DayRun(NamedTuple):
    """A run as a day of the calendar lists it."""

    id: uuid.UUID
    status: str
    name: str
    trigger: str
    created_at: datetime


class _QuarterHour(FunctionElement[Any]):
    """A timestamp truncated to the start of its quarter hour, in UTC, on either database."""

    inherit_cache = True
    name = "quarter_hour"


@compiles(_QuarterHour, "postgresql")
def _quarter_postgresql(element: _QuarterHour, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"date_bin('15 minutes', ({inner}) AT TIME ZONE 'UTC', TIMESTAMP '2000-01-01')"


@compiles(_QuarterHour, "sqlite")
def _quarter_sqlite(element: _QuarterHour, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC text: the hour, then the minute rounded down to 0, 15, 30 or 45.
    inner = compiler.process(element.clauses, **kw)
    return (
        f"strftime('%Y-%m-%d %H:', {inner}) || "
        f"printf('%02d', (CAST(strftime('%M', {inner}) AS INTEGER) / 15) * 15) || ':00'"
    )


def quarter_counts(session: Session, *, start: datetime, end: datetime) -> list[QuarterCount]:
    """Runs created from ``start`` up to ``end``, counted by quarter hour and status."""
    bucket = _QuarterHour(Run.created_at)
    query = (
        select(bucket, Run.status, func.count())
        .where(Run.created_at >= start, Run.created_at < end)
        .group_by(bucket, Run.status)
    )
    return [
        QuarterCount(_utc(moment), str(status), int(n))
        for moment, status, n in session.execute(query)
    ]


def day_runs(session: Session, *, start: datetime, end: datetime, limit: int) -> list[DayRun]:
    """The first ``limit`` runs created from ``start`` up to ``end``, oldest first."""
    query = (
        select(
            Run.id,
            Run.status,
            func.coalesce(Mission.title, Workflow.name),
            Run.trigger,
            Run.created_at,
        )
        .join(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(Mission, Mission.id == Run.mission_id)
        .where(Run.created_at >= start, Run.created_at < end)
        .order_by(Run.created_at, Run.id)
        .limit(limit)
    )
    return [DayRun(i, str(s), str(n), str(t), c) for i, s, n, t, c in session.execute(query)]


def _utc(moment: datetime | str) -> datetime:
    """A bucket's start as an aware UTC instant (SQLite answers text, PostgreSQL naive time)."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
