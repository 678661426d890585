"""Signed checkpoints: the chain head, signed with Ed25519 and kept outside the database.

A checkpoint says "at ``time`` the log's event ``seq`` had the hash ``hash``", signed by the key
``key_id``. Every earlier event is linked to that hash by the chain, so a log whose event
``seq`` is gone (its last events removed and the head moved back) or has another hash (events
rewritten and every later hash recomputed) contradicts a signature that nobody with only
database access can make (ADR 0023).

On disk, in the checkpoint directory:
- ``<seq, 12 digits>.json``: ``{"format", "hash", "key_id", "seq", "signature", "time"}``.
  ``signature`` is the base64 Ed25519 signature of the UTF-8 canonical JSON (keys sorted, no
  whitespace) of the object without ``signature``;
- ``keys/<key_id>.pem``: each signing key's public key (PEM, SubjectPublicKeyInfo), kept so that
  old checkpoints still verify after the key is rotated. ``key_id`` is the first 16 hex digits
  of the SHA-256 of the 32-byte raw public key;
- ``keys/<key_id>.retired.json``: a rotated key's retirement, after which checkpoints it signs
  are refused (``eventlog.retirement``, ADR 0075).

The private key is a PEM (PKCS#8) file of its own, created with mode 0600 on first use and
refused when other users may read it; it is never stored in the database.
"""

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.bounded_reads import read_file
from missionctl.db.models import Event, EventLogHead
from missionctl.db.types import canonical_json
from missionctl.eventlog.chain import GENESIS_HASH, format_ts
from missionctl.eventlog.private_files import replace_file, scratch_beside, write_new
from missionctl.eventlog.retirement import AUDIT_FILE_MAX_BYTES, KeyRetirement, Retirements

CHECKPOINT_FORMAT = "missionctl-checkpoint/1"
"""The ``format`` of every checkpoint this code writes and reads."""

KEYS_DIR = "keys"
_NAME = re.compile(r"^(\d{12})\.json$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_HASH_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed statement of the chain head."""

    seq: int
    hash: str
    time: str
    key_id: str
    signature: str

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers: the canonical JSON of every field but it."""
        return signed_bytes(seq=self.seq, hash=self.hash, time=self.time, key_id=self.key_id)

    def to_json(self) -> str:
        """The file's text (canonical JSON, one line)."""
        return canonical_json(
            {
                "format": CHECKPOINT_FORMAT,
                "seq": self.seq,
                "hash": self.hash,
                "time": self.time,
                "key_id": self.key_id,
                "signature": self.signature,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> "Checkpoint":
        """Parse a checkpoint file's text.

        Raises:
            ValueError: not a checkpoint of this format; the message names the field.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"format: not {CHECKPOINT_FORMAT}")
        seq, digest = data.get("seq"), data.get("hash")
        if type(seq) is not int or seq < 0:
            raise ValueError("seq: not a whole number of at least 0")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise ValueError("hash: not 64 lower-case hex digits")
        if not isinstance(data.get("key_id"), str) or not _KEY_ID.match(data["key_id"]):
            raise ValueError("key_id: not 16 lower-case hex digits")
        if not isinstance(data.get("time"), str) or not isinstance(data.get("signature"), str):
            raise ValueError("time and signature: must be text")
        return cls(seq, digest, data["time"], data["key_id"], data["signature"])

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature is ``public_key``'s over this checkpoint's fields."""
        try:
            signature = base64.b64decode(self.signature, validate=True)
            public_key.verify(signature, self.signed_bytes())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def signed_bytes(*, seq: int, hash: str, time: str, key_id: str) -> bytes:
    """What a checkpoint's signature covers (for third parties: see the module docstring)."""
    body = {"format": CHECKPOINT_FORMAT, "seq": seq, "hash": hash, "time": time, "key_id": key_id}
    return canonical_json(body).encode("utf-8")


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), as ``openssl pkey -pubout`` writes it."""
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def public_key_raw_base64(public_key: Ed25519PublicKey) -> str:
    """The 32-byte raw public key, base64."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key that signs checkpoints, with its public half's id."""

    private_key: Ed25519PrivateKey
    key_id: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private_key.public_key()

    def sign(self, *, seq: int, hash: str, time: datetime) -> Checkpoint:
        """A checkpoint of the head ``(seq, hash)`` at ``time``."""
        text = format_ts(time)
        data = signed_bytes(seq=seq, hash=hash, time=text, key_id=self.key_id)
        signature = base64.b64encode(self.private_key.sign(data)).decode("ascii")
        return Checkpoint(seq, hash, text, self.key_id, signature)


def load_signing_key(path: Path, *, create: bool = True) -> SigningKey | None:
    """The signing key kept at ``path``; made there first (mode 0600) if missing and ``create``.

    Blocking (file I/O): call it from a thread in a server. Two processes creating the key at
    once end up with the same key (the first one written).

    Returns:
        The key, or ``None`` when the file does not exist and ``create`` is false.

    Raises:
        ValueError: the file may be read by other users, or is not an Ed25519 private key in
            PEM (``TooLarge`` past :data:`AUDIT_FILE_MAX_BYTES`, not read further); the
            message names the path and the fix.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        return _create_signing_key(path) if create else None
    if status.st_mode & 0o077:
        raise ValueError(
            f"{path} may be read by other users (mode {status.st_mode & 0o777:o}); "
            f"make it private: chmod 600 {path}"
        )
    return _parse_private_key(path, _read_key(path))


def _create_signing_key(path: Path) -> SigningKey:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = new_signing_key()
    # Written whole under another name, then linked into place: a process that finds the file
    # never reads half a key, and a link fails where another process's key already is.
    scratch = scratch_beside(path)
    write_new(scratch, _private_pem(key.private_key), mode=0o600)
    try:
        os.link(scratch, path)
    except FileExistsError:
        found = load_signing_key(path, create=False)
        assert found is not None
        return found
    finally:
        scratch.unlink()
    return key


def _private_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def new_signing_key() -> SigningKey:
    """A fresh Ed25519 key, in memory only (``install_signing_key`` puts it in place)."""
    private_key = Ed25519PrivateKey.generate()
    return SigningKey(private_key, key_id_of(private_key.public_key()))


def install_signing_key(path: Path, key: SigningKey) -> None:
    """Make ``key`` the one at ``path`` (mode 0600), replacing any key there in one step.

    Blocking. A process loading the key at the same moment reads the old key or the new one,
    whole; the old private key is gone from ``path`` afterwards.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    replace_file(path, _private_pem(key.private_key))


def read_retiring_key(path: Path) -> SigningKey | None:
    """The key at ``path`` whatever its file's mode, or ``None`` if there is none (blocking).

    For retiring it: a key that may have leaked is being replaced, so a file others could read
    is no reason to refuse it (``load_signing_key`` refuses one for signing).

    Raises:
        ValueError: the file is not an Ed25519 private key in PEM; the message names the path.
    """
    try:
        data = _read_key(path)
    except FileNotFoundError:
        return None
    return _parse_private_key(path, data)


def _read_key(path: Path) -> bytes:
    """A PEM key file's bytes; ``TooLarge`` (a ``ValueError``) past the limit."""
    fix = "an Ed25519 key in PEM is a few hundred bytes: put the key file back"
    return read_file(path, limit=AUDIT_FILE_MAX_BYTES, fix=fix)


def _read_checkpoint(path: Path) -> str:
    """A checkpoint file's text; ``TooLarge`` (a ``ValueError``) past the limit."""
    fix = "a checkpoint is under 1 KB: move this file out of the checkpoint directory"
    return read_file(path, limit=AUDIT_FILE_MAX_BYTES, fix=fix).decode("utf-8")


def _parse_private_key(path: Path, data: bytes) -> SigningKey:
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a PEM private key without a password: {exc}") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return SigningKey(private_key, key_id_of(private_key.public_key()))


def write_checkpoint(directory: Path, checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> Path:
    """Write ``checkpoint`` as ``<seq>.json`` under ``directory``, and its key's public half.

    The file appears whole or not at all (written aside, synced, then renamed). A checkpoint of
    the same ``seq`` is replaced: it signs the same head. Blocking: call it from a thread.

    Returns:
        The checkpoint file's path.
    """
    keep_public_key(directory, public_key)
    path = directory / f"{checkpoint.seq:012d}.json"
    replace_file(path, (checkpoint.to_json() + "\n").encode("utf-8"))
    return path


def keep_public_key(directory: Path, public_key: Ed25519PublicKey) -> Path:
    """Keep ``public_key`` as ``keys/<key id>.pem`` under ``directory`` (blocking).

    Kept once and never removed: checkpoints signed with it verify after the key is rotated.

    Returns:
        The public key file's path.
    """
    # Private like the rest of the data directory; whoever checks them gets copies.
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = directory / KEYS_DIR
    keys.mkdir(exist_ok=True, mode=0o700)
    key_file = keys / f"{key_id_of(public_key)}.pem"
    if not key_file.exists():
        replace_file(key_file, public_key_pem(public_key).encode("ascii"))
    return key_file


def latest_checkpoint_seq(directory: Path) -> int | None:
    """The highest ``seq`` named by a checkpoint file (unverified), or ``None`` if none."""
    if not directory.is_dir():
        return None
    with os.scandir(directory) as entries:
        seqs = [int(found[1]) for entry in entries if (found := _NAME.match(entry.name))]
    return max(seqs, default=None)


@dataclass(frozen=True, slots=True)
class CheckpointFile:
    """A checkpoint file as read: its checkpoint, or why it is not one."""

    path: Path
    checkpoint: Checkpoint | None
    problem: str | None = None


def read_checkpoint_files(directory: Path) -> list[CheckpointFile]:
    """Every checkpoint file under ``directory``, in ``seq`` order (blocking)."""
    if not directory.is_dir():
        return []
    found: list[CheckpointFile] = []
    for path in sorted(p for p in directory.iterdir() if _NAME.match(p.name)):
        try:
            checkpoint = Checkpoint.from_json(_read_checkpoint(path))
        except (ValueError, OSError) as exc:  # JSONDecodeError and UnicodeError are ValueErrors
            found.append(CheckpointFile(path, None, f"not a checkpoint ({exc})"))
            continue
        if f"{checkpoint.seq:012d}.json" != path.name:
            found.append(CheckpointFile(path, None, f"names seq {checkpoint.seq} in its text"))
            continue
        found.append(CheckpointFile(path, checkpoint))
    return found


def read_public_keys(sources: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, from PEM files and directories of them (blocking).

    Files that are not Ed25519 public keys are skipped: a checkpoint whose key is missing is
    reported as such by ``check_checkpoints``.
    """
    keys: dict[str, Ed25519PublicKey] = {}
    for source in sources:
        paths = sorted(source.glob("*.pem")) if source.is_dir() else [source]
        for path in paths:
            try:
                key = serialization.load_pem_public_key(_read_key(path))
            except (ValueError, OSError):
                continue
            if isinstance(key, Ed25519PublicKey):
                keys[key_id_of(key)] = key
    return keys


async def read_head(session: AsyncSession) -> tuple[int, str]:
    """The chain head: ``(last_seq, last_hash)``."""
    head = (
        await session.execute(
            select(EventLogHead.last_seq, EventLogHead.last_hash).where(EventLogHead.id == 1)
        )
    ).one()
    return int(head.last_seq), str(head.last_hash)


async def read_hashes(session: AsyncSession, seqs: Sequence[int]) -> dict[int, str]:
    """The stored hash of each event of ``seqs`` that exists (seq 0: the genesis hash)."""
    hashes = {0: GENESIS_HASH} if 0 in seqs else {}
    wanted = sorted({seq for seq in seqs if seq > 0})
    for start in range(0, len(wanted), _HASH_LOOKUP_CHUNK):
        chunk = wanted[start : start + _HASH_LOOKUP_CHUNK]
        rows = await session.execute(select(Event.seq, Event.hash).where(Event.seq.in_(chunk)))
        hashes.update({int(seq): str(digest) for seq, digest in rows})
    return hashes


async def read_last_seq(session: AsyncSession) -> int:
    """The highest ``seq`` stored (0 for an empty log), whatever the head says."""
    return int(await session.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0)


@dataclass(frozen=True, slots=True)
class CheckpointReport:
    """What the checkpoints say about the log: how many hold, the latest, and each break."""

    verified: int
    latest: Checkpoint | None
    last_seq: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every checkpoint file holds."""
        return not self.problems


async def check_checkpoints(
    session: AsyncSession,
    files: Sequence[CheckpointFile],
    keys: Mapping[str, Ed25519PublicKey],
    retirements: Retirements | None = None,
) -> CheckpointReport:
    """Check each checkpoint's signature, and that the log still holds the head it signed.

    A checkpoint past the last stored event means events after that event were removed; one
    whose event has another hash means the log up to it was rewritten. One signed with a
    retired key after its retirement (``retirements``) is refused whatever it signs, and so is
    a retirement record that cannot be read.
    """
    retired = retirements or Retirements({})
    last_seq = await read_last_seq(session)
    signed = [f.checkpoint for f in files if f.checkpoint is not None]
    hashes = await read_hashes(session, [c.seq for c in signed])
    problems = [f"{f.path.name}: {f.problem}" for f in files if f.problem is not None]
    problems += retired.problems
    verified: list[Checkpoint] = []
    for checkpoint in signed:
        problem = _checkpoint_problem(checkpoint, keys, retired.by_key, hashes, last_seq)
        if problem is None:
            verified.append(checkpoint)
        else:
            problems.append(f"{checkpoint.seq:012d}.json: {problem}")
    latest = max(verified, key=lambda c: c.seq, default=None)
    return CheckpointReport(len(verified), latest, last_seq, tuple(problems))


def _checkpoint_problem(
    checkpoint: Checkpoint,
    keys: Mapping[str, Ed25519PublicKey],
    retired: Mapping[str, KeyRetirement],
    hashes: Mapping[int, str],
    last_seq: int,
) -> str | None:
    key = keys.get(checkpoint.key_id)
    if key is None:
        return f"no public key {checkpoint.key_id} to check its signature with"
    if not checkpoint.verify(key):
        return f"its signature does not verify with key {checkpoint.key_id} (the file was edited)"
    retirement = retired.get(checkpoint.key_id)
    if retirement is not None:
        refusal = retirement.refusal(seq=checkpoint.seq, time=checkpoint.time)
        if refusal is not None:
            return refusal
    stored = hashes.get(checkpoint.seq)
    if stored is None and checkpoint.seq > last_seq:
        return f"events after seq {last_seq} were removed: checkpoint at seq {checkpoint.seq}"
    if stored is None:
        return f"the event at seq {checkpoint.seq} it signed was removed"
    if stored != checkpoint.hash:
        return (
            f"hash mismatch at seq {checkpoint.seq}: the checkpoint signed "
            f"{checkpoint.hash[:16]}…, the log holds {stored[:16]}… (events up to seq "
            f"{checkpoint.seq} were rewritten)"
        )
    return None


def checkpoint_as_dict(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint as the JSON object of its file (what ``checkpoint_url`` receives)."""
    data: dict[str, Any] = json.loads(checkpoint.to_json())
    return data
