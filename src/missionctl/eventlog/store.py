"""Appending to and reading the event log in the database (``verify`` checks it)."""

import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ARRAY, Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.clock import CLOCK
from missionctl.db.models import Event, EventLogHead
from missionctl.db.prepared import Prepared, driver_connection
from missionctl.db.types import canonical_json, db_now
from missionctl.errors import EventLogUnavailable
from missionctl.eventlog.chain import format_ts, hash_event_json

log = logging.getLogger(__name__)

_PENDING_KEY = "missionctl.pending_events"
_ACTOR = re.compile(r"^(system|(user|token|agent|schedule):[A-Za-z0-9][A-Za-z0-9._@+-]{0,150})$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. ``payload`` must be JSON (str keys; str, int, float, bool, None, lists).

    Raises:
        ValueError: the type is not dotted lower-case (``mission.created``), the actor is not one of
            ``system``, ``user:NAME``, ``token:NAME``, ``agent:NAME``, ``schedule:NAME``, or the
            payload is not JSON.
    """

    type: str
    actor: str
    payload: dict[str, Any] = field(default_factory=dict)
    mission_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    step_id: str | None = None
    # The payload's canonical JSON, computed once by validation and reused for the hash.
    payload_json: str = field(default="", init=False, repr=False, compare=False)
    # The payload as the log will read it back, taken with ``payload_json`` when that is the
    # payload itself, flat (``None`` otherwise: the record's payload is parsed from the JSON).
    flat_copy: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _TYPE.match(self.type):
            raise ValueError(
                f"event type {self.type!r} must be dotted lower-case, e.g. run.started"
            )
        if not _ACTOR.match(self.actor):
            raise ValueError(
                f"actor {self.actor!r} must be system, user:NAME, token:NAME, agent:NAME or "
                "schedule:NAME"
            )
        try:
            object.__setattr__(self, "payload_json", canonical_json(self.payload))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"event payload is not JSON: {exc}") from exc
        object.__setattr__(self, "flat_copy", _flat_copy(self.payload))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _flat_copy(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A copy of ``payload`` if it reads back from JSON equal to itself, else ``None``.

    A flat payload of plain scalars under text keys does (most events' payloads are a status
    and an attempt), so appending need not parse its JSON again. Nested values, tuples,
    subclasses such as enums and non-text keys read back differently: they are parsed.
    """
    for key, value in payload.items():
        if type(key) is not str or type(value) not in _SCALARS:
            return None
    return dict(payload)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A stored event, detached from any session (safe to hand to other tasks)."""

    seq: int
    ts: datetime
    type: str
    actor: str
    mission_id: uuid.UUID | None
    run_id: uuid.UUID | None
    step_id: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Event) -> "EventRecord":
        """Copy an ORM row."""
        return cls(
            seq=row.seq,
            ts=row.ts,
            type=row.type,
            actor=row.actor,
            mission_id=row.mission_id,
            run_id=row.run_id,
            step_id=row.step_id,
            payload=row.payload,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


_events_table = cast(Table, Event.__table__)
# The hot path's statements (ADR 0016): every engine tick runs them.
# OR FAIL: a refused row changes nothing (revision 0006), so SQLite need not journal each
# insert to undo it; the caller's transaction is rolled back on any error all the same.
_INSERT_EVENTS = Prepared(insert(_events_table).prefix_with("OR FAIL", dialect="sqlite"))
# PostgreSQL takes a batch in one statement, a column per array: its trigger that checks the
# rows and moves the head runs once per statement (revision 0006).
_INSERT_EVENT_ARRAYS = Prepared(
    insert(_events_table).from_select(
        [column.key for column in _events_table.c],
        select(
            *[
                func.unnest(bindparam(column.key, type_=ARRAY(column.type)))
                for column in _events_table.c
            ]
        ),
    )
)
_HEAD_QUERY = Prepared(
    select(EventLogHead.__table__.c.last_seq, EventLogHead.__table__.c.last_hash, db_now())
    .where(EventLogHead.__table__.c.id == 1)
    .with_for_update()
)


def _chain(
    events: Sequence[NewEvent], seq: int, prev_hash: str, now: datetime
) -> list[EventRecord]:
    """Number and hash ``events`` after the head ``(seq, prev_hash)``; all share ``now``."""
    records: list[EventRecord] = []
    ts_text = format_ts(now)
    for new in events:
        seq += 1
        payload = new.flat_copy if new.flat_copy is not None else json.loads(new.payload_json)
        digest = hash_event_json(
            prev_hash,
            seq=seq,
            ts=now,
            type=new.type,
            actor=new.actor,
            mission_id=new.mission_id,
            run_id=new.run_id,
            step_id=new.step_id,
            payload_json=new.payload_json,
            ts_text=ts_text,
        )
        records.append(
            EventRecord(
                seq=seq,
                ts=now,
                type=new.type,
                actor=new.actor,
                mission_id=new.mission_id,
                run_id=new.run_id,
                step_id=new.step_id,
                payload=payload,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    return records


def _insert_columns(
    records: Sequence[EventRecord], events: Sequence[NewEvent]
) -> dict[str, list[Any]]:
    """``_insert_rows`` as one list per column, for ``_INSERT_EVENT_ARRAYS``."""
    return {
        "seq": [r.seq for r in records],
        "ts": [r.ts for r in records],
        "type": [r.type for r in records],
        "actor": [r.actor for r in records],
        "mission_id": [r.mission_id for r in records],
        "run_id": [r.run_id for r in records],
        "step_id": [r.step_id for r in records],
        "payload": [new.payload_json for new in events],
        "prev_hash": [r.prev_hash for r in records],
        "hash": [r.hash for r in records],
    }


def _insert_rows(
    records: Sequence[EventRecord], events: Sequence[NewEvent]
) -> list[dict[str, Any]]:
    # The payload goes in as the canonical text already made for the hash (``CanonicalJson``
    # passes through the column's serialiser unchanged).
    return [
        {
            "seq": r.seq,
            "ts": r.ts,
            "type": r.type,
            "actor": r.actor,
            "mission_id": r.mission_id,
            "run_id": r.run_id,
            "step_id": r.step_id,
            "payload": new.payload_json,
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r, new in zip(records, events, strict=True)
    ]


async def append(session: AsyncSession, events: Sequence[NewEvent]) -> list[EventRecord]:
    """Append ``events`` to the log inside the caller's transaction, as one batch.

    Locks the chain head (``SELECT … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already holds the
    write lock) so concurrent appenders are serialised: ``seq`` is gapless and commit order equals
    ``seq`` order. The database admits each event only at the head and moves the head to it
    (revision 0006). All events of a batch share one database timestamp (the moved clock's
    time while one is installed, ``db.clock``). The records are
    remembered on the session; the service publishes them after its commit (see
    ``pending_events``).

    Returns:
        The stored records, in ``seq`` order.

    Raises:
        EventLogUnavailable: the database refused the events because a stored row contradicts
            the chain head (e.g. a row inserted past it); logged once, until an append succeeds.
    """
    if not events:
        return []
    # The same prepared statements as the engine's (ADR 0016), through the session's driver.
    return await session.run_sync(append_sync, events)


def append_sync(session: Session, events: Sequence[NewEvent]) -> list[EventRecord]:
    """``append`` for a blocking session (the engine's hot path, in a worker thread)."""
    if not events:
        return []
    # Prepared statements on the session's connection: the engine's hot path (ADR 0007, 0016).
    head = _HEAD_QUERY.first(session)
    assert head is not None, "the migrations create the chain head"
    seq, prev_hash, now = head
    # A moved clock (``db.clock``), when one is installed, dates the batch instead.
    moved = CLOCK.moved
    records = _chain(events, seq, prev_hash, now if moved is None else moved)
    dialect, _ = driver_connection(session)
    try:
        # The database's trigger checks that the rows extend the head, and moves it to them.
        if dialect.name == "postgresql":
            _INSERT_EVENT_ARRAYS.run(session, _insert_columns(records, events))
        else:
            _INSERT_EVENTS.run_many(session, _insert_rows(records, events))
    except Exception as exc:
        if isinstance(exc, dialect.loaded_dbapi.IntegrityError):
            raise _refused(session, seq, exc) from exc
        raise
    if _OUTAGES:
        _recovered(session)
    session.info.setdefault(_PENDING_KEY, []).extend(records)
    return records


# The databases whose log refused an append since the last append that succeeded: an outage
# is logged once, not once per request. Shared by the process's threads; a race costs at most
# a second log line.
_OUTAGES: set[str] = set()


def _database_of(session: Session) -> str:
    url = session.get_bind().engine.url
    # One database, whichever driver (the engine's writer and the services use two).
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def _recovered(session: Session) -> None:
    database = _database_of(session)
    if database in _OUTAGES:
        _OUTAGES.discard(database)
        log.warning("the event log accepts appends again")


def _refused(session: Session, head_seq: int, cause: Exception) -> EventLogUnavailable:
    """The error for an append the database refused; logs the first of an outage."""
    database = _database_of(session)
    if database not in _OUTAGES:
        _OUTAGES.add(database)
        log.error(
            "the event log refuses appends after its head (seq %d): %s. Nothing that must be "
            "recorded can happen until it is repaired: run missionctl audit verify",
            head_seq,
            cause,
        )
    return EventLogUnavailable(
        f"the event log cannot be appended: a stored event contradicts its chain head "
        f"(seq {head_seq}), so nothing that must be recorded can happen now; reads still work. "
        "An operator should run `missionctl audit verify` to find the break, then restore "
        "the database from a backup."
    )


def pending_events(session: AsyncSession | Session) -> list[EventRecord]:
    """Take (and forget) the events appended in ``session`` since the last call."""
    records: list[EventRecord] = session.info.pop(_PENDING_KEY, [])
    return records


async def read_events(
    session: AsyncSession,
    *,
    after_seq: int = 0,
    limit: int = 500,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> list[EventRecord]:
    """Events with ``seq > after_seq`` in ``seq`` order, optionally for one mission or run."""
    query = select(Event).where(Event.seq > after_seq).order_by(Event.seq).limit(limit)
    if mission_id is not None:
        query = query.where(Event.mission_id == mission_id)
    if run_id is not None:
        query = query.where(Event.run_id == run_id)
    rows = (await session.scalars(query)).all()
    return [EventRecord.from_row(row) for row in rows]
