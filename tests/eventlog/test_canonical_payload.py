"""Verify hashes the payload text as stored, and refuses any text but the canonical JSON.

A payload with a duplicate key reads differently to different readers: SQLite's
``json_extract`` takes the first ``"status"``, Python's ``json`` the last. A verifier that parsed
the text and hashed its own re-serialisation would pass such a row, and rows whose whitespace or
key order were changed; one that hashed the stored text alone would pass them too once the
forger hashed that text. Verify does both checks.
"""

import pytest
from sqlalchemy import text

from missionctl.eventlog import NewEvent, append, read_events
from missionctl.eventlog.chain import hash_event_json
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_event_chain
from tests.eventlog.helpers import append_events, drop_append_only_triggers, tamper

pytestmark = pytest.mark.chain_tampered

STORED = '{"attempt":1,"status":"succeeded"}'
NON_CANONICAL = {
    "whitespace": ('{"attempt": 1, "status": "succeeded"}', "not canonical JSON"),
    "key order": ('{"status":"succeeded","attempt":1}', "not canonical JSON"),
    "duplicate key": (
        '{"attempt":1,"status":"failed","status":"succeeded"}',
        "duplicate key 'status'",
    ),
}


async def _log_ending_in_a_success(ctx: ServiceContext) -> int:
    await append_events(ctx, 2)
    async with ctx.write() as session:
        [record] = await append(
            session, [NewEvent("step.succeeded", "system", {"attempt": 1, "status": "succeeded"})]
        )
    return record.seq


async def _set_payload_text(ctx: ServiceContext, seq: int, payload: str) -> None:
    async with ctx.write() as session:
        await session.execute(
            text("UPDATE events SET payload = :payload WHERE seq = :seq"),
            {"payload": payload, "seq": seq},
        )


@pytest.mark.parametrize("kind", list(NON_CANONICAL))
@pytest.mark.parametrize("rehashed", [False, True], ids=["hash-kept", "hash-over-the-text"])
async def test_non_canonical_payload_text_is_reported(
    ctx: ServiceContext, kind: str, rehashed: bool
) -> None:
    seq = await _log_ending_in_a_success(ctx)
    forged, reason = NON_CANONICAL[kind]
    await drop_append_only_triggers(ctx)
    await _set_payload_text(ctx, seq, forged)
    if rehashed:  # the forger hashes the text as stored, and moves the head to it
        async with ctx.read() as session:
            [event] = await read_events(session, after_seq=seq - 1, limit=1)
        digest = hash_event_json(
            event.prev_hash,
            seq=seq,
            ts=event.ts,
            type=event.type,
            actor=event.actor,
            mission_id=None,
            run_id=None,
            step_id=None,
            payload_json=forged,
        )
        await tamper(ctx, f"UPDATE events SET hash = '{digest}' WHERE seq = {seq}")
        await tamper(ctx, f"UPDATE event_log_head SET last_hash = '{digest}'")

    report = await verify_event_chain(ctx)
    assert not report.ok
    assert report.broken_seq == seq
    assert reason in (report.reason or "")
    assert (report.reason or "").startswith("the event was changed: its payload text is ")


# json_extract is SQLite's: this shows SQLite's reading, so it runs there only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_reads_the_first_of_two_keys(ctx: ServiceContext) -> None:
    """Why a duplicate key matters: the database and the verifier would disagree."""
    seq = await _log_ending_in_a_success(ctx)
    await drop_append_only_triggers(ctx)
    await _set_payload_text(ctx, seq, NON_CANONICAL["duplicate key"][0])
    async with ctx.read() as session:
        status = await session.scalar(
            text(f"SELECT json_extract(payload, '$.status') FROM events WHERE seq = {seq}")
        )
    assert status == "failed"
    assert not (await verify_event_chain(ctx)).ok


async def test_stored_text_is_the_canonical_text(ctx: ServiceContext) -> None:
    seq = await _log_ending_in_a_success(ctx)
    async with ctx.read() as session:
        stored = await session.scalar(
            text(f"SELECT CAST(payload AS TEXT) FROM events WHERE seq = {seq}")
        )
    assert stored == STORED
    assert (await verify_event_chain(ctx)).ok
