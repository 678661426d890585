"""`missionctl audit verify | checkpoint | public-key`: the log checked, anchored and shown.

These tests use no `ctx` fixture (the commands open the database themselves); the ones that
tamper with the log leave it tampered, which no end-of-test check reads.
"""

import asyncio
import base64
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from missionctl.services import ServiceContext, open_context
from missionctl.settings import get_settings
from tests.eventlog.helpers import (
    append_events,
    chain_head,
    drop_append_only_triggers,
    drop_head_triggers,
    insert_event_row,
    tamper,
)

WRITTEN = re.compile(r"^checkpoint at seq (\d+) \(key ([0-9a-f]{16})\) written to (\S+)$", re.M)


def on_database(work: Any) -> None:
    """Run ``work(ctx)`` against the database the `cli` fixture's environment names."""

    async def go() -> None:
        async with open_context(get_settings()) as ctx:
            await work(ctx)

    asyncio.run(go())


def test_verify_says_ok_and_that_nothing_anchors_the_chain_yet(cli: Any) -> None:
    on_database(lambda ctx: append_events(ctx, 3))
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "OK 3 events"
    assert "no checkpoints in " in result.stdout
    assert "missionctl audit checkpoint writes one" in result.stdout


def test_checkpoint_then_verify(cli: Any) -> None:
    on_database(lambda ctx: append_events(ctx, 3))
    written = cli("audit", "checkpoint")
    assert written.exit_code == 0, written.output
    seq, key_id, path = WRITTEN.search(written.stdout).groups()  # type: ignore[union-attr]
    assert seq == "3" and Path(path).name == "000000000003.json"
    on_database(lambda ctx: append_events(ctx, 2))

    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "OK 5 events",
        f"OK 1 checkpoint; the latest at seq 3 ({_time_of(path)}, key {key_id}); "
        "2 events after it are not checkpointed yet",
    ]


def _time_of(path: str) -> str:
    import json

    time: str = json.loads(Path(path).read_text())["time"]
    return time


def test_public_key_as_pem_and_raw(cli: Any) -> None:
    pem = cli("audit", "public-key")
    assert pem.exit_code == 0, pem.output
    assert pem.stdout.startswith("-----BEGIN PUBLIC KEY-----\n")
    key = serialization.load_pem_public_key(pem.stdout.encode())
    assert isinstance(key, Ed25519PublicKey)
    raw = cli("audit", "public-key", "--raw")
    assert base64.b64decode(raw.stdout.strip()) == key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    on_database(lambda ctx: append_events(ctx, 1))
    key_id = WRITTEN.search(cli("audit", "checkpoint").stdout).group(2)  # type: ignore[union-attr]
    assert f"key id {key_id}" in pem.stderr


def test_verify_exits_1_on_a_truncated_tail(cli: Any) -> None:
    on_database(lambda ctx: append_events(ctx, 6))
    assert cli("audit", "checkpoint").exit_code == 0

    async def truncate(ctx: ServiceContext) -> None:
        await drop_append_only_triggers(ctx)
        await tamper(ctx, "DELETE FROM events WHERE seq > 4")
        async with ctx.read() as session:
            from missionctl.eventlog import read_events

            fourth = (await read_events(session, after_seq=3, limit=1))[0]
        await tamper(ctx, f"UPDATE event_log_head SET last_seq = 4, last_hash = '{fourth.hash}'")

    on_database(truncate)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "OK 4 events",
        "BROKEN checkpoint 000000000006.json: events after seq 4 were removed: checkpoint at seq 6",
    ]


def test_verify_exits_1_on_a_row_past_the_head(cli: Any) -> None:
    async def forge(ctx: ServiceContext) -> None:
        await append_events(ctx, 2)
        await drop_head_triggers(ctx)
        seq, digest = await chain_head(ctx)
        await insert_event_row(ctx, seq=seq + 1, prev_hash=digest, hash="e" * 64)

    on_database(forge)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "BROKEN at seq 3: event past the chain head (seq 2): it was inserted without going "
        "through the event log"
    )
    refused = cli("audit", "checkpoint")  # the head is fine; it can still be signed
    assert refused.exit_code == 0, refused.output
