"""Signed checkpoints anchor the chain outside the database.

The chain alone cannot tell an honest log from one whose last events were removed together with
the head, or one rewritten with every hash recomputed: both are consistent. A checkpoint (the
head signed with a key the database never holds) can, and so can anyone holding its public key.
"""

import asyncio
import base64
import http.server
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from missionctl.errors import IntegrityError, ValidationFailed
from missionctl.eventlog import compute_hash, read_events
from missionctl.eventlog.chain import event_body
from missionctl.eventlog.checkpoints import public_key_pem
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.audit import (
    keep_audit_checkpoints,
    signing_key,
    verify_audit_log,
    verify_event_chain,
    write_audit_checkpoint,
)
from missionctl.settings import AuditSettings, SandboxSettings, Settings
from tests.eventlog.helpers import append_events, chain_head, drop_append_only_triggers, tamper


async def _truncate(ctx: ServiceContext, *, keep: int) -> None:
    """Remove every event after ``keep`` and move the head back to it, as an insider would."""
    async with ctx.read() as session:
        kept = (await read_events(session, after_seq=keep - 1, limit=1))[0]
    await drop_append_only_triggers(ctx)
    await tamper(ctx, f"DELETE FROM events WHERE seq > {keep}")
    await tamper(ctx, f"UPDATE event_log_head SET last_seq = {keep}, last_hash = '{kept.hash}'")


async def _rewrite(ctx: ServiceContext, *, seq: int, actor: str) -> None:
    """Change one event's actor and recompute every hash from it on, and the head."""
    async with ctx.read() as session:
        events = await read_events(session)
    await drop_append_only_triggers(ctx)
    prev_hash = events[seq - 2].hash if seq > 1 else events[0].prev_hash
    for event in events[seq - 1 :]:
        body = event_body(
            seq=event.seq,
            ts=event.ts,
            type=event.type,
            actor=actor if event.seq == seq else event.actor,
            mission_id=event.mission_id,
            run_id=event.run_id,
            step_id=event.step_id,
            payload=event.payload,
        )
        digest = compute_hash(prev_hash, body)
        await tamper(
            ctx,
            f"UPDATE events SET actor = '{body['actor']}', prev_hash = '{prev_hash}', "
            f"hash = '{digest}' WHERE seq = {event.seq}",
        )
        prev_hash = digest
    await tamper(ctx, f"UPDATE event_log_head SET last_hash = '{prev_hash}'")


@pytest.mark.chain_tampered
async def test_a_truncated_tail_with_the_head_moved_back_is_found(ctx: ServiceContext) -> None:
    await append_events(ctx, 10)
    written = await write_audit_checkpoint(ctx)
    assert (written.checkpoint.seq, written.path.name) == (10, "000000000010.json")
    await _truncate(ctx, keep=7)

    assert str(await verify_event_chain(ctx)) == "OK 7 events"  # consistent: the chain can't tell
    report = await verify_audit_log(ctx)
    assert not report.ok
    assert report.checkpoints.problems == (
        "000000000010.json: events after seq 7 were removed: checkpoint at seq 10",
    )


@pytest.mark.chain_tampered
async def test_a_chain_recomputed_after_an_edit_is_found(ctx: ServiceContext) -> None:
    await append_events(ctx, 4)
    await write_audit_checkpoint(ctx)
    await append_events(ctx, 6)
    await write_audit_checkpoint(ctx)
    await _rewrite(ctx, seq=6, actor="user:mallory")

    assert str(await verify_event_chain(ctx)) == "OK 10 events"
    report = await verify_audit_log(ctx)
    assert report.checkpoints.verified == 1  # the one at seq 4, before the edit
    [problem] = report.checkpoints.problems
    assert problem.startswith("000000000010.json: hash mismatch at seq 10: the checkpoint signed ")
    assert problem.endswith("(events up to seq 10 were rewritten)")


@pytest.mark.chain_tampered
async def test_the_head_is_not_signed_after_events_were_removed(ctx: ServiceContext) -> None:
    await append_events(ctx, 5)
    await write_audit_checkpoint(ctx)
    await _truncate(ctx, keep=3)
    with pytest.raises(IntegrityError, match="behind the checkpoint at seq 5"):
        await write_audit_checkpoint(ctx)


async def test_an_untouched_log_verifies_with_its_checkpoints(ctx: ServiceContext) -> None:
    report = await verify_audit_log(ctx)
    assert (report.ok, report.chain.count, report.checkpoints.latest) == (True, 0, None)
    await write_audit_checkpoint(ctx)  # an empty log can be anchored too (seq 0)
    await append_events(ctx, 3, batch=2)
    await write_audit_checkpoint(ctx)
    report = await verify_audit_log(ctx)
    assert report.ok and report.checkpoints.verified == 2
    assert report.checkpoints.latest is not None and report.checkpoints.latest.seq == 3


async def test_an_edited_checkpoint_does_not_verify(ctx: ServiceContext) -> None:
    await append_events(ctx, 3)
    path = (await write_audit_checkpoint(ctx)).path
    data = json.loads(path.read_text())
    data["seq"] = 2  # claim less was written; signed over seq 3
    path.with_name("000000000002.json").write_text(json.dumps(data))
    path.write_text(path.read_text().replace('"time":"2', '"time":"1'))
    problems = (await verify_audit_log(ctx)).checkpoints.problems
    assert problems == (
        "000000000002.json: its signature does not verify with key "
        f"{data['key_id']} (the file was edited)",
        "000000000003.json: its signature does not verify with key "
        f"{data['key_id']} (the file was edited)",
    )


async def test_a_third_party_verifies_with_the_public_key_alone(ctx: ServiceContext) -> None:
    """What docs/security.md tells an auditor to do, without this code."""
    await append_events(ctx, 2)
    path = (await write_audit_checkpoint(ctx)).path
    pem = public_key_pem(signing_key(ctx.settings).public_key)

    public = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public, Ed25519PublicKey)
    checkpoint = json.loads(path.read_text())
    signature = base64.b64decode(checkpoint.pop("signature"))
    message = json.dumps(checkpoint, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public.verify(signature, message.encode())  # raises if it does not hold
    async with ctx.read() as session:
        assert (await read_events(session, after_seq=1))[0].hash == checkpoint["hash"]


async def test_old_checkpoints_verify_after_the_key_is_rotated(ctx: ServiceContext) -> None:
    await append_events(ctx, 2)
    first = (await write_audit_checkpoint(ctx)).checkpoint
    key_path = ctx.settings.audit_key_path
    key_path.rename(key_path.with_name("retired.pem"))  # rotation: the old key goes away
    await append_events(ctx, 2)
    second = (await write_audit_checkpoint(ctx)).checkpoint
    assert first.key_id != second.key_id
    report = await verify_audit_log(ctx)
    assert report.ok and report.checkpoints.verified == 2
    kept = sorted(p.stem for p in (ctx.settings.audit_checkpoint_dir / "keys").iterdir())
    assert kept == sorted([first.key_id, second.key_id])


async def test_only_trusted_keys_verify_when_named(ctx: ServiceContext, tmp_path: Path) -> None:
    await append_events(ctx, 2)
    key_id = (await write_audit_checkpoint(ctx)).checkpoint.key_id
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(public_key_pem(_other_public_key()))
    report = await verify_audit_log(ctx, trusted_keys=[stranger])
    assert report.checkpoints.problems == (
        f"000000000002.json: no public key {key_id} to check its signature with",
    )
    own = ctx.settings.audit_checkpoint_dir / "keys" / f"{key_id}.pem"
    assert (await verify_audit_log(ctx, trusted_keys=[stranger, own])).ok


def _other_public_key() -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().public_key()


async def test_the_signing_key_is_private_and_out_of_the_sandboxes_reach(
    settings: Settings, tmp_path: Path
) -> None:
    key = signing_key(settings)
    path = settings.audit_key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_key(settings).key_id == key.key_id  # created once, then read

    os.chmod(path, 0o640)
    with pytest.raises(ValidationFailed, match=f"chmod 600 {path.resolve()}") as caught:
        signing_key(settings)
    assert caught.value.field == "MISSIONCTL_AUDIT_KEY_PATH"

    shared = tmp_path / "opt"
    exposed = settings.model_copy(
        update={
            "audit": AuditSettings(key_path=shared / "key.pem"),
            "sandbox": SandboxSettings(read_only_paths=[str(shared)]),
        }
    )
    with pytest.raises(ValidationFailed, match="which sandboxed programs may read"):
        signing_key(exposed)
    assert not (shared / "key.pem").exists()


async def test_checkpoints_are_private_like_the_rest_of_the_data_directory(
    ctx: ServiceContext,
) -> None:
    previous = os.umask(0o022)  # whatever the process's mask
    try:
        written = await write_audit_checkpoint(ctx)
    finally:
        os.umask(previous)
    keys = written.path.parent / "keys"
    modes = [stat.S_IMODE(p.stat().st_mode) for p in (written.path.parent, keys)]
    modes += [stat.S_IMODE(p.stat().st_mode) for p in (written.path, *keys.iterdir())]
    assert modes == [0o700, 0o700, 0o600, 0o600]


async def test_checkpoints_are_written_every_n_events_and_at_stop(settings: Settings) -> None:
    every_5 = settings.model_copy(update={"audit": AuditSettings(checkpoint_every_events=5)})
    async with open_context(every_5) as ctx:
        stop = asyncio.Event()
        keeper = asyncio.create_task(keep_audit_checkpoints(ctx, stop, check_s=0.02))
        await append_events(ctx, 6, batch=6)
        await _wait_for_file(ctx.settings.audit_checkpoint_dir / "000000000006.json")
        await append_events(ctx, 2)  # fewer than 5: not yet
        await asyncio.sleep(0.1)
        assert not (ctx.settings.audit_checkpoint_dir / "000000000008.json").exists()
        stop.set()
        await keeper  # the last check signs what is left
        assert (ctx.settings.audit_checkpoint_dir / "000000000008.json").exists()
        report = await verify_audit_log(ctx)
        assert report.checkpoints.verified == 2
        assert report.checkpoints.latest is not None
        assert (report.checkpoints.latest.seq, report.checkpoints.latest.hash) == await chain_head(
            ctx
        )


async def _wait_for_file(path: Path) -> None:
    for _ in range(250):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path.name} was never written")


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Keeps each POSTed body; answers 204, or 500 for paths under /broken."""

    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(500 if self.path.startswith("/broken") else 204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    """The base URL of a loopback server that keeps what is POSTed to it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_each_checkpoint_is_posted_to_the_configured_url(
    settings: Settings, receiver: str
) -> None:
    posted = settings.model_copy(
        update={"audit": AuditSettings(checkpoint_url=SecretStr(f"{receiver}/anchor"))}
    )
    async with open_context(posted) as ctx:
        await append_events(ctx, 2)
        written = await write_audit_checkpoint(ctx)
    assert written.post_error is None
    assert _Receiver.received == [json.loads(written.path.read_text())]

    broken = settings.model_copy(
        update={"audit": AuditSettings(checkpoint_url=SecretStr(f"{receiver}/broken"))}
    )
    async with open_context(broken) as ctx:
        written = await write_audit_checkpoint(ctx)
    assert written.post_error == "MISSIONCTL_AUDIT_CHECKPOINT_URL answered 500"
    assert written.path.exists()  # the file is written either way
