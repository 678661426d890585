"""Verifying the event log: every stored event against its text, its predecessor and the head."""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Event, EventLogHead
from missionctl.eventlog.chain import (
    GENESIS_HASH,
    ChainReport,
    hash_event_json,
    payload_text_problem,
)

# The payload as the text stored, not as a JSON reader understands it: the hash covers that
# text, and a reader's parse of a non-canonical text may differ from the verifier's.
_ROWS = select(
    Event.seq,
    Event.ts,
    Event.type,
    Event.actor,
    Event.mission_id,
    Event.run_id,
    Event.step_id,
    cast(Event.payload, Text).label("payload_text"),
    Event.prev_hash,
    Event.hash,
).order_by(Event.seq)
_HEAD = select(EventLogHead.last_seq, EventLogHead.last_hash).where(EventLogHead.id == 1)


async def verify_chain(session: AsyncSession, *, batch_size: int = 5000) -> ChainReport:
    """Recompute the whole chain and report ``OK n`` or the first broken ``seq`` and why.

    Reads every stored event, not only those up to the chain head, and detects:
    - a changed event: its stored text no longer matches its hash;
    - a payload stored as any text but the canonical JSON the log writes (whitespace, key
      order, a duplicate key), even one whose hash was computed over that text;
    - a broken link (``prev_hash`` differs from the previous event's hash);
    - a missing event (a ``seq`` gap);
    - an event past the chain head: inserted without going through the log;
    - a head that disagrees with the last event (events removed from the end).

    In one snapshot (the services' read transactions) the head and the events agree: the
    database moves the head in the transaction that inserts each event. Where reads do not
    share a snapshot, the head is read again before an event past it is called forged.

    The chain alone cannot tell a log whose last events were removed together with the head's
    move back, or one rewritten with every hash recomputed, from an honest one: signed
    checkpoints (``eventlog.checkpoints``) anchor it outside the database.
    """
    head = (await session.execute(_HEAD)).one()
    walk = _Walk()
    async for row in _rows(session, batch_size):
        if row.seq > head.last_seq:
            head = (await session.execute(_HEAD)).one()  # appended since it was read?
            if row.seq > head.last_seq:
                return walk.broken(
                    row.seq,
                    f"event past the chain head (seq {head.last_seq}): it was inserted "
                    "without going through the event log",
                )
        problem = walk.step(row)
        if problem is not None:
            return problem
    return walk.settle(head.last_seq, head.last_hash)


async def _rows(session: AsyncSession, batch_size: int) -> AsyncIterator[Any]:
    """Every stored event in ``seq`` order, read ``batch_size`` at a time."""
    after = 0
    while True:
        query = _ROWS.where(Event.seq > after).limit(batch_size)
        rows = (await session.execute(query)).all()
        for row in rows:
            yield row
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


class _Walk:
    """The chain as far as it has been checked: how many events, and the last one's hash."""

    def __init__(self) -> None:
        self.count = 0
        self.prev_hash = GENESIS_HASH

    def broken(self, seq: int, reason: str) -> ChainReport:
        """The report of a break at ``seq``."""
        return ChainReport(False, self.count, seq, reason)

    def step(self, row: Any) -> ChainReport | None:
        """Check the next stored event; the report of its break, or ``None`` if it holds."""
        expected = self.count + 1
        if row.seq != expected:
            return self.broken(expected, f"event missing: found seq {row.seq} next")
        if row.prev_hash != self.prev_hash:
            return self.broken(row.seq, "prev_hash does not match the previous event's hash")
        problem = payload_text_problem(row.payload_text)
        if problem is not None:
            return self.broken(row.seq, f"the event was changed: its payload text is {problem}")
        digest = hash_event_json(
            self.prev_hash,
            seq=row.seq,
            ts=row.ts,
            type=row.type,
            actor=row.actor,
            mission_id=row.mission_id,
            run_id=row.run_id,
            step_id=row.step_id,
            payload_json=row.payload_text,
        )
        if digest != row.hash:
            return self.broken(row.seq, "content does not match its hash (the event was changed)")
        self.prev_hash = row.hash
        self.count = expected
        return None

    def settle(self, head_seq: int, head_hash: str) -> ChainReport:
        """The report once every stored event held, given the chain head."""
        if head_seq > self.count:
            return self.broken(
                self.count + 1,
                f"chain head records {head_seq} events but {self.count} were found "
                "(events removed)",
            )
        if head_hash != self.prev_hash:
            return self.broken(self.count, "the chain head's hash is not the last event's hash")
        return ChainReport(True, self.count)
