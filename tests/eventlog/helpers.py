"""Helpers for event-log tests: fill the log, and tamper with it the way an attacker would."""

import importlib
from datetime import UTC, datetime

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, text

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


FORGED_TS = datetime(2026, 12, 1, tzinfo=UTC)
"""The time ``insert_event_row`` gives the rows it inserts."""


async def drop_head_triggers(ctx: ServiceContext) -> None:
    """Drop the triggers that admit events only at the chain head and move it (revision 0006)."""
    async with ctx.write() as session:
        if ctx.db.dialect == "postgresql":
            await session.execute(text("DROP TRIGGER events_append_at_head ON events"))
        else:
            await session.execute(text("DROP TRIGGER events_append_at_head"))
            await session.execute(text("DROP TRIGGER events_advance_head"))


async def remove_forged_rows(ctx: ServiceContext) -> None:
    """Repair the log as an operator might: delete mallory's rows, restore the head triggers.

    Both in one transaction: a running engine must never see the log without the forged rows
    but still without the head triggers (its append would not move the head). On PostgreSQL the
    tables are locked first, in the appender's order (the head, then the events), so the repair
    waits for a tick in progress instead of deadlocking with it.
    """
    await drop_append_only_triggers(ctx)
    async with ctx.db.engine.begin() as connection:
        if ctx.db.dialect == "postgresql":
            await connection.execute(
                text("LOCK TABLE event_log_head, events IN ACCESS EXCLUSIVE MODE")
            )
        await connection.execute(text("DELETE FROM events WHERE actor = 'user:mallory'"))
        await connection.run_sync(_recreate_head_triggers)


def _recreate_head_triggers(connection: Connection) -> None:
    """Revision 0006's triggers, dropped (if any are left) and created again."""
    revision = importlib.import_module(
        "missionctl.db.migrations.versions.0006_events_appended_only_at_the_head"
    )
    with Operations.context(MigrationContext.configure(connection)):
        revision.downgrade()
        revision.upgrade()


async def insert_event_row(
    ctx: ServiceContext,
    *,
    seq: int,
    prev_hash: str,
    hash: str,
    type: str = "approval.approved",
    actor: str = "user:mallory",
    payload_text: str = '{"status":"queued"}',
) -> None:
    """INSERT one row into events by hand, as someone with database access would."""
    async with ctx.write() as session:
        await session.execute(
            text(
                "INSERT INTO events (seq, ts, type, actor, mission_id, run_id, step_id, payload, "
                "prev_hash, hash) VALUES (:seq, :ts, :type, :actor, NULL, NULL, NULL, :payload, "
                ":prev_hash, :hash)"
            ),
            {
                "seq": seq,
                # SQLite keeps UTC times as naive text.
                "ts": FORGED_TS if ctx.db.dialect == "postgresql" else "2026-12-01 00:00:00.000000",
                "type": type,
                "actor": actor,
                "payload": payload_text,
                "prev_hash": prev_hash,
                "hash": hash,
            },
        )


async def chain_head(ctx: ServiceContext) -> tuple[int, str]:
    """The chain head as stored: ``(last_seq, last_hash)``."""
    async with ctx.read() as session:
        row = (await session.execute(text("SELECT last_seq, last_hash FROM event_log_head"))).one()
    return int(row[0]), str(row[1])
