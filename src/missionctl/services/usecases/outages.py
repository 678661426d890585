"""Database outages into the record, once they are over.

Nothing can be written while the database is unavailable, so a process that met an outage
(``db.faults.OutageLog``) keeps it in memory and tries, every few seconds, to append it:
``database.unavailable`` (since when, why) and ``database.recovered`` (for how long, how many
requests or ticks failed meanwhile). The first append that succeeds is the proof that the
database takes writes again: the outage's last log line follows it.
"""

import asyncio
import logging

from missionctl.db.faults import Outage, OutageLog
from missionctl.domain import events as ev
from missionctl.eventlog import NewEvent, append
from missionctl.services.runtime.context import ServiceContext

__all__ = ["RETRY_S", "record_outage", "watch_recovery"]

RETRY_S = 2.0
log = logging.getLogger(__name__)


async def record_outage(ctx: ServiceContext, outage: Outage, *, process: str) -> None:
    """Append the outage ``process`` saw: its start and its end, in one transaction."""
    causes = list(outage.causes)
    since = outage.since.isoformat()
    ended = {
        "process": process,
        "causes": causes,
        "since": since,
        "lasted_s": outage.lasted_s,
        "failures": outage.failures,
        "what": outage.what,
    }
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent(
                    type=ev.DATABASE_UNAVAILABLE,
                    actor="system",
                    payload={"process": process, "causes": causes, "since": since},
                ),
                NewEvent(type=ev.DATABASE_RECOVERED, actor="system", payload=ended),
            ],
        )


async def watch_recovery(
    ctx: ServiceContext, outages: OutageLog, *, process: str, retry_s: float = RETRY_S
) -> None:
    """Until the outage ``outages`` holds is recorded, try every ``retry_s``; then end it.

    A failed try counts as one more failure of the outage (a quiet line, ``OutageLog``).
    Returns at once when no outage is under way.
    """
    while (outage := outages.current()) is not None:
        await asyncio.sleep(retry_s)
        outage = outages.current() or outage
        try:
            await record_outage(ctx, outage, process=process)
        except Exception as failure:
            outages.failed(failure, "recording the database outage")
            continue
        outages.ended()
        return
