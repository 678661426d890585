"""Work the server repeats in the background while it runs (the derived data's upkeep)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from missionctl.db.faults import OutageLog, database_fault

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
"""The longest a failing job waits before it is tried again."""

# Every job of the process meets a database outage at once: one line says so for them all.
_outages = OutageLog(log, "background jobs failed")


@asynccontextmanager
async def repeating(
    job: Callable[[], Awaitable[object]], *, every_s: float, what: str
) -> AsyncIterator[None]:
    """Run ``job`` now and every ``every_s`` while the block runs; stop cleanly at its end.

    ``what`` names the job in the log and the task ("the search index catching up"). A failing
    job is logged once when it starts failing and once when it works again, not every time, and
    is tried again after twice the wait of the time before (up to ``MAX_BACKOFF_S``), so a
    database that is down is not hammered; a database outage is one line for all the jobs
    (``db.faults.OutageLog``), without a traceback. At the block's end a job under way
    finishes first.
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
    failures = 0
    while not stop.is_set():
        try:
            await job()
        except Exception as failure:
            if database_fault(failure) is not None:
                _outages.failed(failure, what)  # one quiet line for all the jobs
            elif not failures:
                log.warning(
                    "%s failed; trying again, less often while it fails", what, exc_info=True
                )
            failures += 1
        else:
            if failures:
                log.info("%s works again", what)
                _outages.ended()
            failures = 0
        try:
            async with asyncio.timeout(backoff_s(every_s, failures)):
                await stop.wait()
        except TimeoutError:
            pass


def backoff_s(every_s: float, failures: int) -> float:
    """The wait after ``failures`` failures in a row: ``every_s``, doubled per failure, capped."""
    if not failures:
        return every_s
    doubled: float = every_s * 2.0 ** min(failures, 32)
    return max(every_s, min(doubled, MAX_BACKOFF_S))
