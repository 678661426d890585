"""A row forged past the chain head: verify names it, and the product says so without falling over.

Someone with database access drops the triggers and inserts ``approval.approved`` by
``user:mallory`` at ``seq = head + 1``. Every later append then collides with it: the product
must say so once and clearly (a 503 naming `missionctl audit verify`), keep answering reads and
refusals (a 401 stays a 401), and its engine must dispatch nothing rather than crash or loop.
"""

import asyncio
import logging

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.engine import worker
from missionctl.eventlog import compute_hash
from missionctl.eventlog.chain import event_body
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_event_chain
from missionctl.services.usecases.runs import read_run
from tests.engine.helpers import running_engine, start, step, wait_for_run
from tests.eventlog.helpers import (
    FORGED_TS,
    append_events,
    chain_head,
    drop_head_triggers,
    insert_event_row,
    remove_forged_rows,
)
from tests.support.auth import bearer_headers

pytestmark = pytest.mark.chain_tampered

GOAL = "Build a URL shortener with click analytics"


async def forge_past_head(ctx: ServiceContext, *, valid_hash: bool = False) -> int:
    """Insert mallory's approval at head + 1 with the triggers dropped; returns its seq."""
    await drop_head_triggers(ctx)
    seq, digest = await chain_head(ctx)
    forged = "e" * 64
    if valid_hash:  # a careful forger links it and hashes it right
        body = event_body(
            seq=seq + 1, ts=FORGED_TS, type="approval.approved", actor="user:mallory",
            mission_id=None, run_id=None, step_id=None, payload={"status": "queued"},
        )  # fmt: skip
        forged = compute_hash(digest, body)
    await insert_event_row(ctx, seq=seq + 1, prev_hash=digest, hash=forged)
    return seq + 1


@pytest.mark.parametrize("valid_hash", [False, True], ids=["any-hash", "valid-hash"])
async def test_verify_reports_a_row_past_the_head(ctx: ServiceContext, valid_hash: bool) -> None:
    await append_events(ctx, 3)
    forged = await forge_past_head(ctx, valid_hash=valid_hash)
    report = await verify_event_chain(ctx)
    assert not report.ok
    assert report.broken_seq == forged == 4
    assert report.reason == (
        "event past the chain head (seq 3): it was inserted without going through the event log"
    )


async def test_writes_are_503_while_reads_and_refusals_still_answer(
    client: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    ctx: ServiceContext = client._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    assert (await client.post("/api/v1/missions", json={"goal": GOAL})).status_code == 201
    await forge_past_head(ctx)
    caplog.set_level(logging.WARNING, logger="missionctl")

    for _ in range(3):
        written = await client.post("/api/v1/missions", json={"goal": GOAL})
        assert written.status_code == 503, written.text
        error = written.json()["error"]
        assert error["code"] == "event_log_unavailable"
        assert "`missionctl audit verify`" in error["message"]
        assert (await client.get("/api/v1/missions")).json()["total"] == 1
        unknown = await client.get("/api/v1/missions", headers={"Authorization": "Bearer mc_x"})
        assert unknown.status_code == 401
        refused = await client.post("/api/v1/missions", json={"goal": GOAL}, headers=viewer)
        assert refused.status_code == 403

    said = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert "missionctl audit verify" in said[0].getMessage()

    # Repaired (here: the forged row removed), the log takes appends again.
    await remove_forged_rows(ctx)
    assert (await client.post("/api/v1/missions", json={"goal": GOAL})).status_code == 201
    assert "the event log accepts appends again" in caplog.text


async def test_the_engine_dispatches_nothing_and_resumes_once_repaired(
    ctx: ServiceContext, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "LOG_RETRY_S", 0.3)
    run = await start(ctx, [step("a"), step("b", "builtin:noop", "a")])
    await forge_past_head(ctx)
    caplog.set_level(logging.WARNING, logger="missionctl")
    async with running_engine(ctx) as engine:
        await asyncio.sleep(1.0)  # three retries
        assert engine.log_unavailable
        assert {s.step_id: s.status for s in (await read_run(ctx, run_id=run.id)).steps} == {
            "a": "queued",
            "b": "waiting",
        }
        said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(said) == 2, said  # the log's refusal, and the engine's pause
        assert "the engine dispatches nothing" in said[1]

        await remove_forged_rows(ctx)
        done = await wait_for_run(ctx, run.id, within_s=10)
    assert done.status == "completed"
    assert not engine.log_unavailable
    assert (await verify_event_chain(ctx)).ok
