"""Rotating the keys kept in the data directory, for recovery after a suspected leak (ADR 0075).

Two keys live beside the data: the session key (``MISSIONCTL_HOME/secret_key``), which signs
browser session cookies, and the audit signing key (``MISSIONCTL_AUDIT_KEY_PATH``), which signs
the event log's checkpoints. Whoever copied either can act with it: sign an admin's session, or
sign checkpoints over a rewritten log. Rotating replaces the file in one step (mode 0600) and
records ``security.key_rotated`` in the log, with which key and never its material:

- ``rotate_session_key``: every cookie signed with the old key stops verifying, so every
  browser is signed out; servers re-read the file within a second
  (``security.session_key.SessionKeySource``).
- ``rotate_audit_key``: the old key is retired (``eventlog.retirement``): its public half stays
  beside the checkpoints so its checkpoints still verify, but anything it signs after the
  rotation is refused; the new key signs a first checkpoint at once.
"""

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from missionctl.bounded_reads import read_file
from missionctl.db.types import utcnow
from missionctl.domain.events import SECURITY_KEY_ROTATED
from missionctl.errors import MissionControlError, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.eventlog.chain import format_ts
from missionctl.eventlog.checkpoints import (
    KEYS_DIR,
    SigningKey,
    install_signing_key,
    keep_public_key,
    new_signing_key,
    read_head,
    read_retiring_key,
)
from missionctl.eventlog.private_files import replace_file
from missionctl.eventlog.retirement import (
    RETIRED_SUFFIX,
    KeyRetirement,
    checkpoint_turn,
    write_retirement,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.audit import (
    CheckpointWritten,
    audit_key_path,
    check_head_signable,
    post_checkpoint,
    sign_head,
)
from missionctl.services.usecases.sessions import end_all_sessions
from missionctl.settings import Settings

SESSION_KEY_FILE = "secret_key"
"""The session key's file name in the data directory (when no setting gives the key)."""

SESSION_KEY_SETTING = "MISSIONCTL_SERVER_SECRET_KEY"


def session_key_path(settings: Settings) -> Path:
    """Where the session key is kept when ``MISSIONCTL_SERVER_SECRET_KEY`` is unset."""
    return Path(settings.home) / SESSION_KEY_FILE


SESSION_KEY_MAX_BYTES = 4096
"""Largest session key file read, in bytes: a key made here is 64 characters, and one written
by hand has no reason to pass a few hundred."""


def read_session_key(path: Path) -> str:
    """The session key kept in ``path``, stripped; at most :data:`SESSION_KEY_MAX_BYTES`.

    The file may have been replaced by anything (a device, a FIFO, a log): reading stops one
    byte past the limit.

    Raises:
        TooLarge: the file holds more; the message names it, the limit and the fix.
        OSError: it cannot be read (``FileNotFoundError`` when there is none).
        UnicodeDecodeError: it is not UTF-8 text.
    """
    data = read_file(
        path,
        limit=SESSION_KEY_MAX_BYTES,
        fix="write a new one with `missionctl keys rotate-session-key`",
    )
    return data.decode("utf-8").strip()


def new_session_key() -> str:
    """A fresh random session key (384 bits, URL-safe text)."""
    return secrets.token_urlsafe(48)


def refuse_session_key_setting(settings: Settings) -> None:
    """Refuse to rotate the file when the setting, not the file, signs the sessions.

    Raises:
        ValidationFailed: ``MISSIONCTL_SERVER_SECRET_KEY`` is set; the message says to change
            that variable instead. Call it before anything is changed.
    """
    if settings.server.secret_key is not None:
        raise ValidationFailed(
            [
                Problem(
                    field=SESSION_KEY_SETTING,
                    message="sessions are signed with this variable, not with "
                    f"{session_key_path(settings)}: set it to a new random value (e.g. "
                    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`) wherever "
                    "the servers run and restart them; nothing was changed",
                )
            ]
        )


@dataclass(frozen=True, slots=True)
class SessionKeyRotated:
    """The session key file that now holds a new key."""

    path: Path


async def rotate_session_key(ctx: ServiceContext, *, actor: str) -> SessionKeyRotated:
    """Write a new random session key to ``MISSIONCTL_HOME/secret_key`` and record it.

    The event is appended in the transaction that writes the file: if the file cannot be
    written, nothing is recorded. The same transaction revokes every live browser session on
    the server, so a cookie someone copied stops working at once, whatever server it reaches.
    Two rotations at once leave one of their keys, whole.

    Raises:
        ValidationFailed: ``MISSIONCTL_SERVER_SECRET_KEY`` is set, or the key file cannot be
            written (``MISSIONCTL_HOME``); nothing changes.
    """
    refuse_session_key_setting(ctx.settings)
    path = session_key_path(ctx.settings)
    async with ctx.write() as session:
        ended = await end_all_sessions(session, now=utcnow())
        payload = {"key": "session", "sessions_ended": ended}
        await append(session, [NewEvent(type=SECURITY_KEY_ROTATED, actor=actor, payload=payload)])
        try:
            await asyncio.to_thread(_write_session_key, path, new_session_key())
        except OSError as exc:  # raised inside the transaction: the revocations roll back
            raise _not_writable(exc, setting="MISSIONCTL_HOME") from exc
    return SessionKeyRotated(path)


def _not_writable(exc: OSError, *, setting: str) -> ValidationFailed:
    """The refusal of a rotation whose files could not be written (read-only, in the way)."""
    where = exc.filename2 or exc.filename or "a key file"  # a rename's target, if it was one
    message = (
        f"{where} cannot be written ({exc.strerror or exc}); nothing was changed. Make "
        f"{setting} a directory this user may write, then rotate again"
    )
    return ValidationFailed([Problem(field=setting, message=message)])


def _write_session_key(path: Path, key: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    replace_file(path, key.encode("ascii"))


@dataclass(frozen=True, slots=True)
class AuditKeyRotated:
    """The audit key's rotation: the retired key (``None`` if there was none) and the new one.

    ``first`` is the new key's first checkpoint; ``problem`` says why it could not be written
    (the rotation stands: the next checkpoint is signed with the new key).
    """

    old_key_id: str | None
    new_key_id: str
    last_seq: int
    first: CheckpointWritten | None
    problem: str | None = None


async def rotate_audit_key(ctx: ServiceContext, *, actor: str) -> AuditKeyRotated:
    """Replace the checkpoint signing key, retire the old one and sign a first checkpoint.

    In the checkpoint directory's turn (no checkpoint is signed meanwhile, and a concurrent
    rotation waits): the old key's public half is kept in ``keys/``, its retirement recorded
    (no checkpoint after now or past the current head), the new key put in place (0600), and
    ``security.key_rotated`` appended with both key ids, all in one transaction; then the new
    key signs the head, which includes that event.

    Raises:
        ValidationFailed: the key path cannot be used, or the file there is not an Ed25519
            key (``MISSIONCTL_AUDIT_KEY_PATH``), or the checkpoint directory or the key file
            cannot be written; nothing changes.
        IntegrityError: the chain head contradicts the log or the latest checkpoint; nothing
            changes (``missionctl audit verify`` says why).
    """
    settings = ctx.settings
    path = audit_key_path(settings)
    try:
        return await _rotate_audit_key(ctx, path, actor=actor)
    except OSError as exc:  # before the commit, or the transaction rolled back with it
        directory = settings.audit_checkpoint_dir
        failed = exc.filename2 or exc.filename
        inside = failed is not None and Path(failed).is_relative_to(directory)
        setting = "MISSIONCTL_AUDIT_CHECKPOINT_DIR" if inside else "MISSIONCTL_AUDIT_KEY_PATH"
        raise _not_writable(exc, setting=setting) from exc


async def _rotate_audit_key(ctx: ServiceContext, path: Path, *, actor: str) -> AuditKeyRotated:
    settings = ctx.settings
    async with checkpoint_turn(settings.audit_checkpoint_dir):
        await check_head_signable(ctx)
        old = await asyncio.to_thread(_retiring_key, path)
        new = new_signing_key()
        async with ctx.write() as session:
            last_seq, _ = await read_head(session)
            payload = {
                "key": "audit",
                "old_key_id": None if old is None else old.key_id,
                "new_key_id": new.key_id,
                "last_seq": last_seq,
            }
            event = NewEvent(type=SECURITY_KEY_ROTATED, actor=actor, payload=payload)
            await append(session, [event])
            await asyncio.to_thread(_install, settings, path, old, new, last_seq)
        first, problem = await _first_checkpoint(ctx, new)
    if first is not None:
        first = await post_checkpoint(settings, first)
    old_id = None if old is None else old.key_id
    return AuditKeyRotated(old_id, new.key_id, last_seq, first, problem)


def _retiring_key(path: Path) -> SigningKey | None:
    try:
        return read_retiring_key(path)
    except (ValueError, OSError) as exc:
        raise ValidationFailed(
            [
                Problem(
                    field="MISSIONCTL_AUDIT_KEY_PATH",
                    message=f"{exc}; nothing was changed. Move the file away if it is no key "
                    "of ours, then rotate again",
                )
            ]
        ) from exc


def _install(
    settings: Settings, path: Path, old: SigningKey | None, new: SigningKey, last_seq: int
) -> None:
    """Keep both public halves, retire ``old``, then put ``new`` in place (blocking).

    The retirement is written before the key is replaced: if replacing fails, the record is
    taken back; if it is never reached, the old key is still in place and unretired. A key
    retired before (a key file restored from a backup) keeps its first retirement: a later
    one would let checkpoints signed in between pass.
    """
    directory = settings.audit_checkpoint_dir
    keep_public_key(directory, new.public_key)
    written = None
    if old is not None:
        keep_public_key(directory, old.public_key)
        if not (directory / KEYS_DIR / f"{old.key_id}{RETIRED_SUFFIX}").exists():
            record = KeyRetirement(old.key_id, format_ts(datetime.now(UTC)), last_seq, new.key_id)
            written = write_retirement(directory / KEYS_DIR, record)
    try:
        install_signing_key(path, new)
    except BaseException:
        if written is not None:
            written.unlink(missing_ok=True)
        raise


async def _first_checkpoint(
    ctx: ServiceContext, key: SigningKey
) -> tuple[CheckpointWritten | None, str | None]:
    """The new key's first checkpoint, or why it could not be written (the rotation stands)."""
    try:
        return await sign_head(ctx, key), None
    except (MissionControlError, OSError) as exc:
        return None, str(exc)
