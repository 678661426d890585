"""Audit use cases over the event log: read it, verify it, and anchor it with signed checkpoints.

The chain proves that the events agree with each other; a checkpoint (the chain head signed
with a key the database never holds, ADR 0023) proves that they still agree with what was
signed. ``keep_audit_checkpoints`` writes them while a server runs; ``write_audit_checkpoint``
writes one on demand; ``verify_audit_log`` checks both.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from missionctl.db.models import Run
from missionctl.errors import IntegrityError, NotFound, Problem, ValidationFailed
from missionctl.eventlog import ChainReport, EventRecord, read_events, verify_chain
from missionctl.eventlog.checkpoints import (
    KEYS_DIR,
    Checkpoint,
    CheckpointFile,
    CheckpointReport,
    SigningKey,
    check_checkpoints,
    checkpoint_as_dict,
    latest_checkpoint_seq,
    load_signing_key,
    read_checkpoint_files,
    read_hashes,
    read_head,
    read_public_keys,
    write_checkpoint,
)
from missionctl.eventlog.retirement import checkpoint_turn, read_retirements
from missionctl.schemas.runs import EventPage, EventRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.evidence import OutputsReport, outputs_report
from missionctl.settings import Settings

log = logging.getLogger(__name__)

CHECKPOINT_POST_TIMEOUT_S = 10.0


async def verify_event_chain(ctx: ServiceContext) -> ChainReport:
    """Recompute the whole hash chain in one consistent snapshot."""
    async with ctx.read() as session:
        return await verify_chain(session)


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The chain's verification and the checkpoints'; ``ok`` only if both hold."""

    chain: ChainReport
    checkpoints: CheckpointReport
    checkpoint_dir: Path
    outputs: OutputsReport
    """The step runs' stored outputs against the digests the chain holds (ADR 0098)."""

    @property
    def ok(self) -> bool:
        """Whether the chain holds, so does every checkpoint, and every vouched output."""
        return self.chain.ok and self.checkpoints.ok and self.outputs.ok


async def verify_audit_log(
    ctx: ServiceContext, *, trusted_keys: Sequence[Path] = ()
) -> AuditReport:
    """Verify the chain, every checkpoint and the steps' stored outputs, in one snapshot.

    Args:
        ctx: the service context.
        trusted_keys: public keys (PEM files or directories of them) that checkpoints must be
            signed with; empty means the keys kept beside the checkpoints, and the signing
            key's own public half.
    """
    directory = ctx.settings.audit_checkpoint_dir
    files, keys = await asyncio.to_thread(_checkpoints_and_keys, ctx.settings, trusted_keys)
    # Retirements count whichever keys are trusted: a retired key's later checkpoints are a
    # thief's, even when an auditor's own copy of its public key is given.
    retirements = await asyncio.to_thread(read_retirements, directory / KEYS_DIR)
    async with ctx.read() as session:
        chain = await verify_chain(session)
        checkpoints = await check_checkpoints(session, files, keys, retirements)
        outputs = await outputs_report(session)
    return AuditReport(chain, checkpoints, directory, outputs)


def _checkpoints_and_keys(
    settings: Settings, trusted_keys: Sequence[Path]
) -> tuple[list[CheckpointFile], dict[str, Ed25519PublicKey]]:
    directory = settings.audit_checkpoint_dir
    if trusted_keys:
        return read_checkpoint_files(directory), read_public_keys(trusted_keys)
    keys = read_public_keys([directory / KEYS_DIR])
    try:
        own = load_signing_key(settings.audit_key_path, create=False)
    except (ValueError, OSError):
        own = None  # verifying needs only public keys; signing reports the key's problem
    if own is not None:
        keys[own.key_id] = own.public_key
    return read_checkpoint_files(directory), keys


@dataclass(frozen=True, slots=True)
class CheckpointWritten:
    """A checkpoint written: where, and whether ``checkpoint_url`` took it (``None``: unset)."""

    checkpoint: Checkpoint
    path: Path
    post_error: str | None = None


async def write_audit_checkpoint(ctx: ServiceContext) -> CheckpointWritten:
    """Sign the chain head now, write it to the checkpoint directory and POST it if configured.

    The head is signed only if the log still holds it (the event at the head has the head's
    hash) and it is not behind the latest checkpoint (events removed since). A failed POST is
    reported in the result, not raised: the file is written either way. It takes its turn with
    key rotations (``checkpoint_turn``), so it never signs with a key being retired.

    Raises:
        IntegrityError: the head contradicts the log or the latest checkpoint; nothing is
            signed (``missionctl audit verify`` says why).
        ValidationFailed: the signing key cannot be used (``MISSIONCTL_AUDIT_KEY_PATH``), or it
            was retired (a key file restored from before a rotation).
    """
    settings = ctx.settings
    async with checkpoint_turn(settings.audit_checkpoint_dir):
        key = await asyncio.to_thread(signing_key, settings)
        written = await sign_head(ctx, key)
    # Sent after the turn: a slow receiver must not hold up a rotation.
    return await post_checkpoint(settings, written)


async def check_head_signable(ctx: ServiceContext) -> tuple[int, str]:
    """The chain head ``(seq, hash)``, unless it contradicts the log or the latest checkpoint.

    Raises:
        IntegrityError: the head is not the log's event at its seq, or is behind the latest
            checkpoint (events removed since); the message says to run ``audit verify``.
    """
    latest = await asyncio.to_thread(latest_checkpoint_seq, ctx.settings.audit_checkpoint_dir)
    async with ctx.read() as session:
        seq, digest = await read_head(session)
        stored = (await read_hashes(session, [seq])).get(seq)
    if stored != digest:
        raise IntegrityError(
            f"the chain head (seq {seq}) is not the log's event {seq}: nothing was signed; "
            "run `missionctl audit verify`"
        )
    if latest is not None and seq < latest:
        raise IntegrityError(
            f"the chain head (seq {seq}) is behind the checkpoint at seq {latest}: events were "
            "removed; nothing was signed. Run `missionctl audit verify`"
        )
    return seq, digest


async def sign_head(ctx: ServiceContext, key: SigningKey) -> CheckpointWritten:
    """Sign the chain head with ``key`` and write the checkpoint (``post_checkpoint`` sends it).

    The caller holds ``checkpoint_turn``.

    Raises:
        IntegrityError: as ``check_head_signable``; nothing is signed.
    """
    settings = ctx.settings
    seq, digest = await check_head_signable(ctx)
    checkpoint = key.sign(seq=seq, hash=digest, time=datetime.now(UTC))
    directory = settings.audit_checkpoint_dir
    path = await asyncio.to_thread(write_checkpoint, directory, checkpoint, key.public_key)
    return CheckpointWritten(checkpoint, path)


async def post_checkpoint(settings: Settings, written: CheckpointWritten) -> CheckpointWritten:
    """``written`` once POSTed to ``checkpoint_url`` if set, with why the POST failed if it did."""
    return replace(written, post_error=await _post_checkpoint(settings, written.checkpoint))


def signing_key(settings: Settings) -> SigningKey:
    """The key that signs checkpoints, created on first use (blocking: call from a thread).

    Raises:
        ValidationFailed: the key file cannot be used, a sandboxed program could read it, or
            it was retired by a rotation; the problem names ``MISSIONCTL_AUDIT_KEY_PATH`` and
            the fix.
    """
    path = audit_key_path(settings)
    try:
        key = load_signing_key(path)
    except (ValueError, OSError) as exc:
        raise _key_problem(str(exc)) from exc
    assert key is not None
    retired = read_retirements(settings.audit_checkpoint_dir / KEYS_DIR).by_key.get(key.key_id)
    if retired is not None:
        raise _key_problem(
            f"{path} holds key {key.key_id}, retired at {retired.retired_at} (replaced by key "
            f"{retired.successor}): put the current key back, or run "
            "`missionctl keys rotate-audit-key` to make a new one"
        )
    return key


def audit_key_path(settings: Settings) -> Path:
    """The signing key's path, resolved (pure path checks, no I/O on the key).

    Raises:
        ValidationFailed: the path is under a directory sandboxed programs may read.
    """
    path = settings.audit_key_path.resolve()
    for shared in settings.sandbox.read_only_paths:
        if path.is_relative_to(Path(shared).resolve()):
            raise _key_problem(
                f"{path} is under {shared}, which sandboxed programs may read "
                "(MISSIONCTL_SANDBOX_READ_ONLY_PATHS); keep the key elsewhere"
            )
    return path


def _key_problem(message: str) -> ValidationFailed:
    return ValidationFailed([Problem(field="MISSIONCTL_AUDIT_KEY_PATH", message=message)])


async def _post_checkpoint(settings: Settings, checkpoint: Checkpoint) -> str | None:
    """POST ``checkpoint`` to ``checkpoint_url``; why it failed, or ``None`` (also when unset)."""
    if settings.audit.checkpoint_url is None:
        return None
    url = settings.audit.checkpoint_url.get_secret_value()
    try:
        async with httpx2.AsyncClient(timeout=CHECKPOINT_POST_TIMEOUT_S) as client:
            response = await client.post(url, json=checkpoint_as_dict(checkpoint))
    except httpx2.HTTPError as exc:
        return f"MISSIONCTL_AUDIT_CHECKPOINT_URL could not be reached: {type(exc).__name__}"
    if not response.is_success:
        return f"MISSIONCTL_AUDIT_CHECKPOINT_URL answered {response.status_code}"
    return None


@asynccontextmanager
async def audit_checkpoints(ctx: ServiceContext) -> AsyncIterator[None]:
    """Run ``keep_audit_checkpoints`` while the block runs; on exit, its last check and stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(keep_audit_checkpoints(ctx, stop), name="missionctl-checkpoints")
    try:
        yield
    finally:
        stop.set()
        await task


async def keep_audit_checkpoints(
    ctx: ServiceContext, stop: asyncio.Event, *, check_s: float = 1.0
) -> None:
    """Write a checkpoint whenever the log has grown enough, until ``stop`` is set.

    Every ``check_s`` it reads the chain head (appended by any process on the database) and
    signs it once ``checkpoint_every_events`` events were appended since the last checkpoint,
    or ``checkpoint_every_s`` passed with at least one appended; and once more when ``stop`` is
    set, if the head moved. Nothing here runs in an append's transaction. Failures are logged
    (once until a checkpoint succeeds again) and retried at the next check, never raised.

    Returns when ``stop`` is set. Cancelling it stops it at once (no last checkpoint).
    """
    every = ctx.settings.audit
    last_seq: int | None = None  # read from the directory at the first check
    last_at = time.monotonic()
    failing = _Failing()
    while True:
        stopping = await _wait(stop, check_s)
        try:
            if last_seq is None:
                directory = ctx.settings.audit_checkpoint_dir
                last_seq = await asyncio.to_thread(latest_checkpoint_seq, directory) or 0
            async with ctx.read() as session:
                head_seq, _ = await read_head(session)
            grown = head_seq - last_seq
            late = stopping or time.monotonic() - last_at >= every.checkpoint_every_s
            if grown >= every.checkpoint_every_events or (grown > 0 and late):
                written = await write_audit_checkpoint(ctx)
                last_seq, last_at = written.checkpoint.seq, time.monotonic()
                failing.write = False
                failing.posted(written)
        except Exception as exc:  # a full disk or a broken log must not stop the server
            if not failing.write:
                log.error("could not write an audit checkpoint (will retry): %s", exc)
            failing.write = True
        if stopping:
            return


class _Failing:
    """What failed last time, so that a lasting failure is logged once."""

    def __init__(self) -> None:
        self.write = False
        self.post = False

    def posted(self, written: CheckpointWritten) -> None:
        """Log a failed POST unless the previous one failed too."""
        if written.post_error is not None and not self.post:
            log.warning(
                "audit checkpoint %s was not posted: %s", written.path.name, written.post_error
            )
        self.post = written.post_error is not None


async def _wait(stop: asyncio.Event, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``stop``; whether it is set."""
    try:
        async with asyncio.timeout(timeout_s):
            await stop.wait()
    except TimeoutError:
        return False
    return True


async def read_event_page(
    ctx: ServiceContext, *, after_seq: int = 0, limit: int = 500
) -> list[EventRecord]:
    """Events after ``after_seq`` in order (the cursor for SSE and replay)."""
    async with ctx.read() as session:
        return await read_events(session, after_seq=after_seq, limit=limit)


async def read_run_events(
    ctx: ServiceContext, *, run_id: uuid.UUID, after_seq: int = 0, limit: int = 500
) -> list[EventRecord]:
    """A run's events after ``after_seq`` in order.

    Raises:
        NotFound: no such run.
    """
    async with ctx.read() as session:
        if await session.get(Run, run_id) is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        return await read_events(session, run_id=run_id, after_seq=after_seq, limit=limit)


async def read_run_event_page(
    ctx: ServiceContext, *, run_id: uuid.UUID, after: int, limit: int
) -> EventPage:
    """A page of ``read_run_events``: ``next_after`` is set when the page is full.

    Raises:
        NotFound: there is no such run.
    """
    records = await read_run_events(ctx, run_id=run_id, after_seq=after, limit=limit)
    items = [
        EventRead(
            seq=r.seq,
            ts=r.ts.isoformat(),
            type=r.type,
            actor=r.actor,
            step_id=r.step_id,
            payload=r.payload,
        )
        for r in records
    ]
    return EventPage(items=items, next_after=items[-1].seq if len(items) == limit else None)
