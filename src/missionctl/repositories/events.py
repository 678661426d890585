"""Reads of the event log for pages and streams (appending is ``missionctl.eventlog``'s).

Every function filters by mission and run only when given one (``None``: no filter), and
returns ORM rows in the order it names.
"""

import uuid
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Text,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from missionctl.db.models import Event, EventLogHead, Run, StepRun, Workflow
from missionctl.domain.events import (
    LOG_LINE_LEVELS,
    PAYLOAD_SEVERITY_TYPES,
    STEP_LOG,
    Severity,
    types_not_of,
    types_of,
)
from missionctl.schemas.events import EventFilters

_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _scoped(query: _Query, *, mission_id: uuid.UUID | None, run_id: uuid.UUID | None) -> _Query:
    if mission_id is not None:
        query = query.where(Event.mission_id == mission_id)
    if run_id is not None:
        query = query.where(Event.run_id == run_id)
    return query


async def read_head_seq(session: AsyncSession) -> int:
    """The ``seq`` of the newest event committed (0 for an empty log)."""
    head = await session.scalar(select(EventLogHead.last_seq).where(EventLogHead.id == 1))
    return int(head or 0)


async def read_events_after(
    session: AsyncSession,
    *,
    after_seq: int,
    limit: int,
    filters: EventFilters | None = None,
) -> Sequence[Event]:
    """Up to ``limit`` events with ``seq > after_seq`` (matching ``filters``), oldest first."""
    query = select(Event).where(Event.seq > after_seq).order_by(Event.seq).limit(limit)
    if filters is not None:
        query = query.where(*_matching(filters, _dialect(session)))
    return (await session.scalars(query)).all()


async def read_log_after(
    session: AsyncSession, *, after_seq: int, limit: int
) -> list[tuple[Event, str | None, str | None]]:
    """Up to ``limit`` events with ``seq > after_seq``, oldest first, with workflow and agent.

    Each event comes with the name of its run's workflow and the agent of its step (``None``
    when it has none): what a live follower needs to match any ``EventFilters`` at once.
    """
    step = (StepRun.run_id == Event.run_id) & (StepRun.step_id == Event.step_id)
    query = (
        select(Event, Workflow.name, StepRun.agent)
        .outerjoin(Run, Run.id == Event.run_id)
        .outerjoin(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(StepRun, step)
        .where(Event.seq > after_seq)
        .order_by(Event.seq)
        .limit(limit)
    )
    return [(event, workflow, agent) for event, workflow, agent in await session.execute(query)]


async def read_events_before(
    session: AsyncSession, *, mission_id: uuid.UUID, before_seq: int, limit: int
) -> Sequence[Event]:
    """Up to ``limit`` events of the mission with ``seq < before_seq``, newest first."""
    query = (
        select(Event)
        .where(Event.mission_id == mission_id, Event.seq < before_seq)
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def read_first_type(session: AsyncSession) -> str | None:
    """The type of the log's first event, or ``None`` for an empty log."""
    return await session.scalar(select(Event.type).where(Event.seq == 1))


async def count_events(
    session: AsyncSession,
    *,
    up_to: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> int:
    """How many events have ``seq <= up_to``."""
    query = select(func.count()).select_from(Event).where(Event.seq <= up_to)
    return int(await session.scalar(_scoped(query, mission_id=mission_id, run_id=run_id)) or 0)


async def read_last_seq(session: AsyncSession, *, mission_id: uuid.UUID | None = None) -> int:
    """The ``seq`` of the mission's newest event (0 when it has none)."""
    query = _scoped(select(func.max(Event.seq)), mission_id=mission_id, run_id=None)
    return int(await session.scalar(query) or 0)


async def read_newest_event(
    session: AsyncSession,
    *,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    types: Sequence[str] = (),
) -> Event | None:
    """The newest event (of one of ``types``, when given), or ``None``."""
    query = _scoped(select(Event), mission_id=mission_id, run_id=run_id)
    if types:
        query = query.where(Event.type.in_(types))
    return await session.scalar(query.order_by(Event.seq.desc()).limit(1))


def _step_type(run_id: uuid.UUID, step_id: str, type_: str) -> ColumnElement[bool]:
    return (Event.run_id == run_id) & (Event.step_id == step_id) & (Event.type == type_)


async def read_step_events(
    session: AsyncSession, *, run_id: uuid.UUID, step_id: str, type_: str, limit: int
) -> tuple[list[Event], int]:
    """The newest ``limit`` events of one type of a step, oldest first, and how many there are."""
    where = _step_type(run_id, step_id, type_)
    total = int(await session.scalar(select(func.count()).select_from(Event).where(where)) or 0)
    rows = await session.scalars(select(Event).where(where).order_by(Event.seq.desc()).limit(limit))
    return list(reversed(rows.all())), total


async def read_audit_page(
    session: AsyncSession, *, mission_id: uuid.UUID, up_to: int, limit: int
) -> tuple[list[Event], int]:
    """The mission's newest ``limit`` events up to ``seq`` ``up_to``, newest first, and their count.

    A ``limit`` of 0 or less reads only the count.
    """
    total = await count_events(session, up_to=up_to, mission_id=mission_id)
    if limit <= 0:
        return [], total
    where = (Event.mission_id == mission_id) & (Event.seq <= up_to)
    rows = await session.scalars(select(Event).where(where).order_by(Event.seq.desc()).limit(limit))
    return list(rows.all()), total


async def read_run_events(
    session: AsyncSession, *, run_id: uuid.UUID, excluding: Collection[str] = ()
) -> Sequence[Event]:
    """Every event of the run (but those of a type in ``excluding``), oldest first.

    That is what a replay folds; a reader that needs only the fold's state leaves out the types
    it never reads (``domain.replay.UNFOLDED_TYPES``), however many of them a run recorded.
    """
    query = select(Event).where(Event.run_id == run_id).order_by(Event.seq)
    if excluding:
        query = query.where(Event.type.not_in(excluding))
    return (await session.scalars(query)).all()


def _line_count(dialect: str) -> ColumnElement[Any]:
    """The number of items of an event's payload ``lines`` (0 when it is not a list)."""
    if dialect == "postgresql":
        lines = Event.payload["lines"]
        return case((func.json_typeof(lines) == "array", func.json_array_length(lines)), else_=0)
    # SQLite's json_array_length is 0 for a value that is not an array, NULL for no value.
    return func.coalesce(func.json_array_length(Event.payload, "$.lines"), 0)


async def count_log_lines(session: AsyncSession, *, run_id: uuid.UUID) -> dict[str, int]:
    """How many lines each step of the run logged, by step id (steps without ``step.log``: absent).

    Counted by the database from the ``lines`` of the ``step.log`` events: no payload is read
    into the process, however long a step's log is.
    """
    count = func.sum(_line_count(_dialect(session)))
    query = (
        select(Event.step_id, count)
        .where(Event.run_id == run_id, Event.type == STEP_LOG, Event.step_id.is_not(None))
        .group_by(Event.step_id)
    )
    return {str(step_id): int(lines or 0) for step_id, lines in await session.execute(query)}


# --- The event feed and the audit explorer --------------------------------------------------


def _type_matches(types: Sequence[str]) -> ColumnElement[bool]:
    """Events of any of ``types``; a type ending with a dot is a prefix (``step.``)."""
    exact = [t for t in types if not t.endswith(".")]
    conditions: list[ColumnElement[bool]] = [Event.type.in_(exact)] if exact else []
    # A prefix is a range on the indexed column (``step.`` ≤ type < ``step/``), not a LIKE,
    # whose index use depends on the collation; ``/`` follows ``.`` in every encoding.
    conditions += [(Event.type >= t) & (Event.type < t[:-1] + "/") for t in types if t not in exact]
    return or_(*conditions)


def _log_levels(dialect: str, levels: Sequence[str]) -> ColumnElement[bool]:
    """``step.log`` events with at least one line whose ``level`` is one of ``levels``.

    Reads the payload's ``lines`` with the database's JSON functions, so that the severity
    filter pages in SQL like every other; what is not a list of objects has no level.
    """
    if dialect == "postgresql":
        lines = Event.payload["lines"]
        array = case(
            (func.json_typeof(lines) == "array", lines), else_=literal_column("'[]'::json")
        )
        line = func.json_array_elements(array).table_valued("value").alias("line")
        level: ColumnElement[Any] = line.c.value.op("->>")("level")
        return exists(select(1).select_from(line).where(level.in_(levels)))
    line = func.json_each(Event.payload, "$.lines").table_valued("value", "type").alias("line")
    level = case((line.c.type == "object", func.json_extract(line.c.value, "$.level")))
    is_array = func.json_type(Event.payload, "$.lines") == "array"
    return exists(select(1).select_from(line).where(is_array, level.in_(levels)))


def _severity(dialect: str, severity: Severity) -> ColumnElement[bool]:
    """Events of ``severity`` as ``domain.events.severity_of`` decides it, as SQL."""
    by_type: ColumnElement[bool] = Event.type.not_in(PAYLOAD_SEVERITY_TYPES)
    if severity == "info":
        by_type &= Event.type.not_in(types_not_of("info"))
    else:
        by_type &= Event.type.in_(types_of(severity))
    worse = [level for level, s in LOG_LINE_LEVELS.items() if s == "error"]
    warn = [level for level, s in LOG_LINE_LEVELS.items() if s == "warning"]
    is_log = Event.type.in_(PAYLOAD_SEVERITY_TYPES)
    if severity == "error":
        by_log = is_log & _log_levels(dialect, worse)
    elif severity == "warning":
        by_log = is_log & _log_levels(dialect, warn) & ~_log_levels(dialect, worse)
    elif severity == "info":
        by_log = is_log & ~_log_levels(dialect, [*warn, *worse])
    else:
        return by_type
    return or_(by_type, by_log)


def _matching(filters: EventFilters, dialect: str) -> list[ColumnElement[bool]]:
    """The conditions on ``events`` that ``filters`` sets (none: every event)."""
    where: list[ColumnElement[bool]] = []
    if filters.type:
        where.append(_type_matches(filters.type))
    if filters.run_id is not None:
        where.append(Event.run_id == filters.run_id)
    if filters.mission_id is not None:
        where.append(Event.mission_id == filters.mission_id)
    if filters.actor is not None:
        where.append(Event.actor == filters.actor)
    if filters.since is not None:
        where.append(Event.ts >= filters.since)
    if filters.until is not None:
        where.append(Event.ts < filters.until)
    if filters.severity:
        where.append(or_(*(_severity(dialect, s) for s in filters.severity)))
    if filters.workflow is not None:
        named = select(Run.id).join(Workflow, Workflow.id == Run.workflow_id)
        where.append(Event.run_id.in_(named.where(Workflow.name == filters.workflow)))
    if filters.agent is not None:
        steps = select(StepRun.run_id).where(
            StepRun.agent == filters.agent,
            StepRun.run_id == Event.run_id,
            StepRun.step_id == Event.step_id,
        )
        where.append(exists(steps))
    return where


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


FEED_WINDOW = 4096
"""The ``seq`` span of the first slice a feed query reads; each further slice doubles it."""


def _feed_query(filters: EventFilters, dialect: str, columns: Sequence[Any]) -> Select[Any]:
    return select(*columns).where(*_matching(filters, dialect))


async def _walk(
    executor: AsyncSession | AsyncConnection,
    query: Select[Any],
    *,
    low: int,
    high: int,
    limit: int,
    oldest_first: bool,
) -> list[Any]:
    """Up to ``limit`` rows of ``query`` with ``low <= seq < high``, read in slices of ``seq``.

    Each slice is one query bounded on ``seq`` on both sides, so whatever plan the database
    picks for it (an index on the filtered column, or the log in ``seq`` order), it reads no
    more than the slice: a filter matching many events stops in the first slice, one matching
    few reads slices twice as long each time, and none sorts every match of the whole log.
    ``executor`` is the session (ORM rows) or its connection (plain rows, no ORM layer).
    """
    rows: list[Any] = []
    span = max(FEED_WINDOW, limit)
    while low < high and len(rows) < limit:
        if oldest_first:
            start, end = low, min(high, low + span)
            low = end
        else:
            start, end = max(low, high - span), high
            high = start
        order = Event.seq.asc() if oldest_first else Event.seq.desc()
        sliced = query.where(Event.seq >= start, Event.seq < end).order_by(order)
        rows += (await executor.execute(sliced.limit(limit - len(rows)))).all()
        span *= 2
    return rows


async def _bounds(
    session: AsyncSession, *, before: int | None, after: int | None
) -> tuple[int, int]:
    """``[low, high)`` of the ``seq`` to read for ``after < seq < before``."""
    high = before if before is not None else await read_head_seq(session) + 1
    return (after + 1 if after is not None else 1), high


async def read_event_feed(
    session: AsyncSession,
    *,
    filters: EventFilters,
    before: int | None = None,
    after: int | None = None,
    limit: int,
    oldest_first: bool = False,
) -> Sequence[Event]:
    """Up to ``limit`` events matching ``filters`` with ``after < seq < before``.

    Newest first, unless ``oldest_first`` (then the ``limit`` events right after ``after``).
    """
    low, high = await _bounds(session, before=before, after=after)
    query = _feed_query(filters, _dialect(session), [Event])
    rows = await _walk(session, query, low=low, high=high, limit=limit, oldest_first=oldest_first)
    return [row[0] for row in rows]


class _IsoText(FunctionElement[str]):
    """A time as the text ``datetime.isoformat`` gives of it in UTC, with ``Z`` for ``+00:00``.

    That is how Pydantic writes a time in JSON, and so how exports show an event's. The
    database writes it: an export would otherwise build and format a ``datetime`` per event.
    """

    type = String()
    inherit_cache = True
    name = "iso_text"


# Both write the time with six digits of fraction, then drop a zero fraction as isoformat does.
_NO_FRACTION = "'.000000Z', 'Z'"


@compiles(_IsoText, "postgresql")
def _iso_text_postgresql(element: _IsoText, compiler: SQLCompiler, **kw: Any) -> str:
    # In UTC whatever the session's time zone; to_char, unlike a cast, ignores DateStyle.
    utc = f"({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC'"
    return f"""replace(to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), {_NO_FRACTION})"""


@compiles(_IsoText, "sqlite")
def _iso_text_sqlite(element: _IsoText, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff`` (``db.types.UTCDateTime``, as
    # SQLAlchemy's own DATETIME always wrote it): its one space becomes the ``T``.
    ts = compiler.process(element.clauses, **kw)
    return f"replace(replace({ts}, ' ', 'T') || 'Z', {_NO_FRACTION})"


class _UuidText(FunctionElement[str]):
    """A UUID (or NULL) as the text ``str(uuid)`` gives: lower-case hex, grouped 8-4-4-4-12."""

    type = String()
    inherit_cache = True
    name = "uuid_text"


@compiles(_UuidText, "postgresql")
def _uuid_text_postgresql(element: _UuidText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
"""Where each group of a UUID's text starts among its 32 hex digits (from 1), and its length."""


@compiles(_UuidText, "sqlite")
def _uuid_text_sqlite(element: _UuidText, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as its 32 hex digits (SQLAlchemy's ``Uuid``); NULL stays NULL through substr and ||.
    hex_ = compiler.process(element.clauses, **kw)
    groups = " || '-' || ".join(f"substr({hex_}, {a}, {n})" for a, n in _UUID_GROUPS)
    return f"lower({groups})"


EXPORT_COLUMNS = (
    Event.seq,
    _IsoText(Event.ts).label("ts"),
    Event.type,
    Event.actor,
    _UuidText(Event.mission_id).label("mission_id"),
    _UuidText(Event.run_id).label("run_id"),
    Event.step_id,
    # The text stored, not a decoded value: it is already the payload's canonical JSON (as the
    # log wrote and hashed it), which an export can often write as it is. A ``json`` value's
    # text on PostgreSQL, the column's own text on SQLite.
    cast(Event.payload, Text).label("payload_text"),
)
"""The columns ``read_event_rows`` reads: what an export writes of an event, as text."""


async def read_event_rows(
    session: AsyncSession, *, filters: EventFilters, after: int, before: int, limit: int
) -> Sequence[Row[Any]]:
    """As ``read_event_feed(oldest_first=True)``, as plain rows of ``EXPORT_COLUMNS``.

    For exports: a row costs a fraction of an ORM object, which a page of thousands feels, and
    the payload comes as its stored JSON text (``payload_text``), not decoded. Each row has the
    attributes ``seq``, ``ts``, ``type``, ``actor``, ``mission_id``, ``run_id``, ``step_id`` and
    ``payload_text``, in that order: ``seq`` an int, the others text (or None), ``ts`` as
    ``_IsoText`` and the ids as ``_UuidText`` write them. Rows are read through the session's
    connection (its transaction), skipping the ORM's result layer.
    """
    query = _feed_query(filters, _dialect(session), EXPORT_COLUMNS)
    connection = await session.connection()
    return await _walk(
        connection, query, low=after + 1, high=before, limit=limit, oldest_first=True
    )
