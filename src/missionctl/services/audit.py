"""Audit use cases over the event log."""

import uuid

from missionctl.db.models import Run
from missionctl.errors import NotFound
from missionctl.eventlog import ChainReport, EventRecord, read_events, verify_chain
from missionctl.services.context import ServiceContext


async def verify_event_chain(ctx: ServiceContext) -> ChainReport:
    """Recompute the whole hash chain in one consistent snapshot."""
    async with ctx.read() as session:
        return await verify_chain(session)


async def read_event_page(
    ctx: ServiceContext, *, after_seq: int = 0, limit: int = 500
) -> list[EventRecord]:
    """Events after ``after_seq`` in order (the cursor for SSE and replay)."""
    async with ctx.read() as session:
        return await read_events(session, after_seq=after_seq, limit=limit)


async def read_run_events(
    ctx: ServiceContext, *, run_id: uuid.UUID, after_seq: int = 0, limit: int = 500
) -> list[EventRecord]:
    """A run's events after ``after_seq`` in order.

    Raises:
        NotFound: no such run.
    """
    async with ctx.read() as session:
        if await session.get(Run, run_id) is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        return await read_events(session, run_id=run_id, after_seq=after_seq, limit=limit)
