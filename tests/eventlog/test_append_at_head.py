"""The database admits an event only at the chain head, and moves the head itself."""

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from missionctl.eventlog import GENESIS_HASH, NewEvent, append, read_events
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_event_chain
from tests.eventlog.helpers import FORGED_TS, append_events, chain_head, insert_event_row


async def test_a_batch_moves_the_head_to_its_last_event(ctx: ServiceContext) -> None:
    """One executemany of many rows: each row is checked against the head its predecessor left."""
    async with ctx.write() as session:
        records = await append(
            session, [NewEvent("test.happened", "system", {"n": n}) for n in range(250)]
        )
    assert await chain_head(ctx) == (250, records[-1].hash)
    assert (await verify_event_chain(ctx)).count == 250


@pytest.mark.parametrize(
    ("seq_offset", "right_prev_hash"),
    [(1, False), (2, True), (0, True)],
    ids=["wrong-prev-hash", "past-the-head", "at-the-head-seq"],
)
async def test_an_event_that_does_not_extend_the_head_is_refused(
    ctx: ServiceContext, seq_offset: int, right_prev_hash: bool
) -> None:
    await append_events(ctx, 3)
    seq, digest = await chain_head(ctx)
    # A second row at the head's seq may first meet the primary key.
    refused = "appended only at the chain head|duplicate key|UNIQUE constraint failed"
    with pytest.raises(sqlalchemy.exc.DBAPIError, match=refused):
        await insert_event_row(
            ctx,
            seq=seq + seq_offset,
            prev_hash=digest if right_prev_hash else GENESIS_HASH,
            hash="f" * 64,
        )
    assert await chain_head(ctx) == (seq, digest)
    async with ctx.read() as session:
        assert [e.seq for e in await read_events(session)] == [1, 2, 3]
    assert (await verify_event_chain(ctx)).ok


@pytest.mark.chain_tampered
async def test_a_row_that_extends_the_head_with_a_wrong_hash_is_found_by_verify(
    ctx: ServiceContext,
) -> None:
    """The database cannot recompute hashes; it keeps the chain linear, verify checks content."""
    await append_events(ctx, 3)
    seq, digest = await chain_head(ctx)
    await insert_event_row(ctx, seq=seq + 1, prev_hash=digest, hash="f" * 64)
    assert await chain_head(ctx) == (4, "f" * 64)
    report = await verify_event_chain(ctx)
    assert (report.broken_seq, report.reason) == (
        4,
        "content does not match its hash (the event was changed)",
    )
    await append_events(ctx, 1)  # appends continue after it: the log is not blocked
    assert await chain_head(ctx) == (5, (await _last_hash(ctx)))


async def _last_hash(ctx: ServiceContext) -> str:
    async with ctx.read() as session:
        return (await read_events(session, after_seq=4))[0].hash


@pytest.mark.chain_tampered
async def test_rows_of_one_statement_must_follow_each_other(ctx: ServiceContext) -> None:
    """A multi-row INSERT by hand: each row extends the one before it, the first the head."""
    await append_events(ctx, 2)
    seq, digest = await chain_head(ctx)
    rows = (
        "(:s1, :ts, 't.x', 'system', '{}', :p1, :h1), (:s2, :ts, 't.x', 'system', '{}', :p2, :h2)"
    )
    insert = text(
        f"INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES {rows}"
    )
    ts = FORGED_TS if ctx.db.dialect == "postgresql" else "2026-12-01 00:00:00.000000"
    unlinked = {"s1": seq + 1, "p1": digest, "h1": "a" * 64, "s2": seq + 2, "p2": "b" * 64}
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="appended only at the chain head"):
        async with ctx.write() as session:
            await session.execute(insert, {**unlinked, "h2": "c" * 64, "ts": ts})
    assert await chain_head(ctx) == (seq, digest)

    linked = {**unlinked, "p2": "a" * 64, "h2": "c" * 64, "ts": ts}
    async with ctx.write() as session:
        await session.execute(insert, linked)
    assert await chain_head(ctx) == (seq + 2, "c" * 64)
    await append_events(ctx, 1)  # the log's own appends continue after them
    assert (await chain_head(ctx))[0] == seq + 3
    report = await verify_event_chain(ctx)  # hand-made hashes: verify names the first
    assert (report.ok, report.broken_seq) == (False, seq + 1)
