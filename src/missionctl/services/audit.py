"""Audit use cases over the event log."""

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
