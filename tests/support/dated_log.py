"""Events appended at dates in the past, for tests of figures that span several days.

The event log stamps every event with the database's clock; a history across days needs
events dated earlier. ``append_dated`` appends at the head through the log's own chain (each
event hashed after the one before), as ``append`` does, but each event at its own time, as
``bench/analytics.py`` seeds a year. ``journey`` is one person's first day: sign-in, a mission
planned and run to its end, with the run's spend.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from missionctl.db.prepared import driver_connection
from missionctl.eventlog import NewEvent
from missionctl.eventlog.store import (
    _HEAD_QUERY,
    _INSERT_EVENT_ARRAYS,
    _INSERT_EVENTS,
    _chain,
    _insert_columns,
    _insert_rows,
)
from missionctl.services import ServiceContext

Dated = tuple[datetime, NewEvent]


def _append(session: Session, dated: Sequence[Dated]) -> None:
    head = _HEAD_QUERY.first(session)
    assert head is not None
    seq, prev_hash, _ = head
    records = []
    for at, event in dated:
        (record,) = _chain([event], seq, prev_hash, at)
        records.append(record)
        seq, prev_hash = record.seq, record.hash
    events = [event for _, event in dated]
    dialect, _ = driver_connection(session)
    if dialect.name == "postgresql":
        _INSERT_EVENT_ARRAYS.run(session, _insert_columns(records, events))
    else:
        _INSERT_EVENTS.run_many(session, _insert_rows(records, events))


async def append_dated(ctx: ServiceContext, dated: Sequence[Dated]) -> None:
    """Append ``dated`` events at the head, in the given order, each stamped with its time."""
    await ctx.write_blocking(lambda session: _append(session, dated))


def journey(
    name: str,
    at: datetime,
    *,
    role: str = "operator",
    workflow: str = "ship",
    ok: bool = True,
    cost_micros: int = 125_000,
    seconds: int = 90,
) -> list[Dated]:
    """``name``'s first day from ``at``: created, signed in, a mission planned, one run ended."""
    mission, run = uuid.uuid4(), uuid.uuid4()
    actor, end = f"user:{name}", "run.completed" if ok else "run.failed"
    usage = {"cost_micros": cost_micros, "input_tokens": 400, "output_tokens": 40}
    ids = {"mission_id": mission, "run_id": run}
    return [
        (at, NewEvent("user.created", "system", {"name": name, "role": role})),
        (at, NewEvent("user.signed_in", actor, {"name": name, "method": "link"})),
        (at, NewEvent("mission.created", actor, {"title": "t"}, mission_id=mission)),
        (at, NewEvent("plan.created", actor, {"source": "local"}, mission_id=mission)),
        (at, NewEvent("run.created", actor, {"workflow": workflow}, **ids)),
        (at, NewEvent("run.started", "system", {"status": "running"}, **ids)),
        (
            at + timedelta(seconds=seconds),
            NewEvent("step.succeeded", "system", usage, run_id=run, step_id="a"),
        ),
        (
            at + timedelta(seconds=seconds),
            NewEvent(end, "system", {"status": end.split(".")[1]}, **ids),
        ),
    ]
