"""The log is append-only in the database, and any tampering is found by `verify`."""

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from missionctl.eventlog import compute_hash, read_events
from missionctl.eventlog.chain import event_body
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_event_chain
from tests.eventlog.helpers import append_events, drop_append_only_triggers, tamper

pytestmark = pytest.mark.chain_tampered


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET actor = 'user:mallory' WHERE seq = 2", "DELETE FROM events WHERE seq = 2"],
)
async def test_update_and_delete_are_rejected_by_the_database(
    ctx: ServiceContext, statement: str
) -> None:
    await append_events(ctx, 3)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        async with ctx.write() as session:
            await session.execute(text(statement))
    assert (await verify_event_chain(ctx)).ok


async def test_wiping_the_table_is_rejected(ctx: ServiceContext) -> None:
    """TRUNCATE on PostgreSQL; on SQLite an unqualified DELETE (its truncate optimisation)."""
    wipe = "TRUNCATE events" if ctx.db.dialect == "postgresql" else "DELETE FROM events"
    await append_events(ctx, 2)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        async with ctx.write() as session:
            await session.execute(text(wipe))
    assert (await verify_event_chain(ctx)).count == 2


async def test_changed_payload_is_named(ctx: ServiceContext) -> None:
    await append_events(ctx, 5)
    await drop_append_only_triggers(ctx)
    await tamper(ctx, """UPDATE events SET payload = '{"n": 99}' WHERE seq = 3""")
    report = await verify_event_chain(ctx)
    assert not report.ok
    assert report.broken_seq == 3
    assert "changed" in (report.reason or "")
    assert str(report).startswith("BROKEN at seq 3:")


async def test_rewritten_event_with_a_valid_hash_breaks_the_next_link(ctx: ServiceContext) -> None:
    """A forger who recomputes the changed event's own hash is caught by its successor."""
    await append_events(ctx, 4)
    async with ctx.read() as session:
        second = (await read_events(session, after_seq=1, limit=1))[0]
    forged_body = event_body(
        seq=second.seq,
        ts=second.ts,
        type=second.type,
        actor="user:mallory",
        mission_id=second.mission_id,
        run_id=second.run_id,
        step_id=second.step_id,
        payload=second.payload,
    )
    forged_hash = compute_hash(second.prev_hash, forged_body)
    await drop_append_only_triggers(ctx)
    await tamper(
        ctx, f"UPDATE events SET actor = 'user:mallory', hash = '{forged_hash}' WHERE seq = 2"
    )
    report = await verify_event_chain(ctx)
    assert report.broken_seq == 3
    assert "prev_hash" in (report.reason or "")


async def test_deleted_event_is_named(ctx: ServiceContext) -> None:
    await append_events(ctx, 5)
    await drop_append_only_triggers(ctx)
    await tamper(ctx, "DELETE FROM events WHERE seq = 2")
    report = await verify_event_chain(ctx)
    assert report.broken_seq == 2
    assert "missing" in (report.reason or "")


async def test_deleted_tail_is_caught_by_the_chain_head(ctx: ServiceContext) -> None:
    await append_events(ctx, 5)
    await drop_append_only_triggers(ctx)
    await tamper(ctx, "DELETE FROM events WHERE seq >= 4")
    report = await verify_event_chain(ctx)
    assert not report.ok
    assert report.broken_seq == 4
    assert "removed" in (report.reason or "")


async def test_empty_log_verifies(ctx: ServiceContext) -> None:
    assert str(await verify_event_chain(ctx)) == "OK 0 events"
