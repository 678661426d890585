"""Work the server repeats in the background while it runs (the derived data's upkeep)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


@asynccontextmanager
async def repeating(
    job: Callable[[], Awaitable[object]], *, every_s: float, what: str
) -> AsyncIterator[None]:
    """Run ``job`` now and every ``every_s`` while the block runs; stop cleanly at its end.

    ``what`` names the job in the log and the task ("the search index catching up"). A failing
    job is logged once when it starts failing and once when it works again, not every time.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(_repeat(job, stop, every_s, what), name=f"missionctl: {what}")
    try:
        yield
    finally:
        stop.set()
        await task


async def _repeat(
    job: Callable[[], Awaitable[object]], stop: asyncio.Event, every_s: float, what: str
) -> None:
    failing = False
    while not stop.is_set():
        try:
            await job()
        except Exception:
            if not failing:
                log.warning("%s failed; trying again every %s s", what, every_s, exc_info=True)
            failing = True
        else:
            if failing:
                log.info("%s works again", what)
            failing = False
        try:
            async with asyncio.timeout(every_s):
                await stop.wait()
        except TimeoutError:
            pass
