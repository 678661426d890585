"""Helpers for event-log tests: fill the log, and tamper with it the way an attacker would."""

from sqlalchemy import text

from missionctl.eventlog import NewEvent, append
from missionctl.services import ServiceContext


async def append_events(ctx: ServiceContext, count: int, *, batch: int = 1) -> None:
    """Append ``count`` small events in transactions of ``batch`` events."""
    made = 0
    while made < count:
        size = min(batch, count - made)
        async with ctx.write() as session:
            await append(
                session,
                [NewEvent("test.happened", "system", {"n": made + i}) for i in range(size)],
            )
        made += size


async def drop_append_only_triggers(ctx: ServiceContext) -> None:
    """What someone with database access could do before tampering."""
    async with ctx.write() as session:
        if ctx.db.dialect == "postgresql":
            await session.execute(text("DROP TRIGGER events_no_update_delete ON events"))
        else:
            await session.execute(text("DROP TRIGGER events_no_update"))
            await session.execute(text("DROP TRIGGER events_no_delete"))


async def tamper(ctx: ServiceContext, sql: str) -> None:
    """Run raw SQL against the log (triggers must have been dropped first)."""
    async with ctx.write() as session:
        await session.execute(text(sql))
