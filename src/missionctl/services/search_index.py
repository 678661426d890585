"""Keeping the log-search index up to date, off the appending path (ADR 0047).

Appends write no search entry. ``catch_up`` indexes the events appended since the index's
cursor, in transactions of at most ``INDEX_BATCH_EVENTS`` events; every search calls it first,
so a search finds every event committed before it began, and the server calls it every
second (``search_indexer``) so that the work a search does stays small.
"""

import logging
from contextlib import AbstractAsyncContextManager

from sqlalchemy.orm import Session

from missionctl.repositories.search import index_new_events
from missionctl.services.context import ServiceContext
from missionctl.services.periodic import repeating

log = logging.getLogger(__name__)

INDEX_BATCH_EVENTS = 5_000
"""Events indexed per transaction: bounds how long one holds SQLite's write lock."""

INDEX_EVERY_S = 1.0
"""How often the server's indexer looks for new events."""


async def catch_up(ctx: ServiceContext) -> int:
    """Index every event appended up to now; returns the last ``seq`` indexed.

    Each batch is a write transaction of its own (on the blocking writer, so it takes turns
    with the engine's ticks instead of waiting for SQLite's lock). Raises what the database
    raises; nothing is half-indexed, since entries and cursor commit together.
    """

    def batch(session: Session) -> tuple[int, int]:
        return index_new_events(session, max_events=INDEX_BATCH_EVENTS)

    while True:
        indexed_to, head = await ctx.write_blocking(batch)
        if indexed_to >= head:
            return indexed_to


async def catch_up_quietly(ctx: ServiceContext) -> bool:
    """``catch_up``, logging instead of raising; whether the index is up to date.

    A search that cannot update the index (the database is busy, say) still answers from
    what is indexed.
    """
    try:
        await catch_up(ctx)
    except Exception:
        log.warning("the search index could not catch up with the log", exc_info=True)
        return False
    return True


def search_indexer(
    ctx: ServiceContext, *, every_s: float = INDEX_EVERY_S
) -> AbstractAsyncContextManager[None]:
    """Catch the index up every ``every_s`` while the block runs (the server's lifespan)."""
    return repeating(lambda: catch_up(ctx), every_s=every_s, what="the search index catching up")
