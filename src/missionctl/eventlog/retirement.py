"""Retired signing keys: what a key may still have signed once it was replaced (ADR 0075).

Rotating the checkpoint signing key (``missionctl keys rotate-audit-key``) leaves, beside the
old key's public half, ``keys/<key_id>.retired.json`` in the checkpoint directory:

    {"format": "missionctl-key-retirement/1", "key_id": …, "last_seq": …,
     "retired_at": …, "successor": …}

A checkpoint signed with a retired key holds only if it is dated at or before ``retired_at``
and signs a head at or before ``last_seq`` (the chain head when the key was retired). Whoever
copied the old private key can still sign with it, but nothing they sign after the rotation is
believed: the successor's first checkpoint anchors the log from there on.

Rotations and checkpoint writers take turns through ``checkpoint_turn``, a lock on a file in
the checkpoint directory, so that no checkpoint is signed with a key while it is being retired.
"""

import asyncio
import fcntl
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from missionctl.bounded_reads import read_file
from missionctl.db.types import canonical_json
from missionctl.eventlog.private_files import replace_file

AUDIT_FILE_MAX_BYTES = 64 * 1024
"""Largest checkpoint, retirement record or key file read, in bytes. Each is under 1 KB as
written here; a larger file is none of them, and reading it stops one byte past the limit
(``bounded_reads``), whatever it is (a device, a FIFO, a log)."""

RETIREMENT_FORMAT = "missionctl-key-retirement/1"
"""The ``format`` of every retirement record this code writes and reads."""

RETIRED_SUFFIX = ".retired.json"
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_LOCK_FILE = ".checkpoint.lock"
_LOCK_POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class KeyRetirement:
    """The record that the key ``key_id`` signs nothing after ``retired_at`` or ``last_seq``."""

    key_id: str
    retired_at: str
    last_seq: int
    successor: str

    def to_json(self) -> str:
        """The file's text (canonical JSON, one line)."""
        return canonical_json(
            {
                "format": RETIREMENT_FORMAT,
                "key_id": self.key_id,
                "retired_at": self.retired_at,
                "last_seq": self.last_seq,
                "successor": self.successor,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> "KeyRetirement":
        """Parse a retirement record's text.

        Raises:
            ValueError: not a record of this format; the message names the field.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != RETIREMENT_FORMAT:
            raise ValueError(f"format: not {RETIREMENT_FORMAT}")
        for name in ("key_id", "successor"):
            if not isinstance(data.get(name), str) or not _KEY_ID.match(data[name]):
                raise ValueError(f"{name}: not 16 lower-case hex digits")
        last_seq, retired_at = data.get("last_seq"), data.get("retired_at")
        if type(last_seq) is not int or last_seq < 0:
            raise ValueError("last_seq: not a whole number of at least 0")
        if not isinstance(retired_at, str) or _instant(retired_at) is None:
            raise ValueError("retired_at: not an ISO 8601 time")
        return cls(data["key_id"], retired_at, last_seq, data["successor"])

    def refusal(self, *, seq: int, time: str) -> str | None:
        """Why a checkpoint of ``seq`` at ``time`` signed with this key is refused, or ``None``.

        A time that cannot be read is refused too: nothing shows it predates the retirement.
        """
        signed_at, retired_at = _instant(time), _instant(self.retired_at)
        assert retired_at is not None  # from_json and the rotation check it
        if signed_at is None or signed_at > retired_at or seq > self.last_seq:
            return (
                f"signed with key {self.key_id} after it was retired at {self.retired_at} "
                f"(it may sign nothing past seq {self.last_seq}; key {self.successor} replaced "
                "it): whoever holds the retired key made it"
            )
        return None


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def write_retirement(keys_dir: Path, retirement: KeyRetirement) -> Path:
    """Write ``retirement`` as ``<key_id>.retired.json`` under ``keys_dir`` (blocking).

    Returns:
        The record's path.
    """
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / f"{retirement.key_id}{RETIRED_SUFFIX}"
    replace_file(path, (retirement.to_json() + "\n").encode("utf-8"))
    return path


@dataclass(frozen=True, slots=True)
class Retirements:
    """The retirement records found, by retired key id, and the files that are not records."""

    by_key: Mapping[str, KeyRetirement]
    problems: tuple[str, ...] = ()


def _read_record(path: Path) -> str:
    """A retirement record's text (``TooLarge``, a ``ValueError``, past the limit)."""
    fix = "a retirement record is under 1 KB: move this file out of the keys directory"
    return read_file(path, limit=AUDIT_FILE_MAX_BYTES, fix=fix).decode("utf-8")


def read_retirements(keys_dir: Path) -> Retirements:
    """Every retirement record under ``keys_dir`` (blocking); a broken one is a problem.

    A record that cannot be read is reported rather than skipped: skipping it would let the
    retired key's checkpoints pass again.
    """
    if not keys_dir.is_dir():
        return Retirements({})
    found: dict[str, KeyRetirement] = {}
    problems: list[str] = []
    for path in sorted(keys_dir.glob(f"*{RETIRED_SUFFIX}")):
        try:
            record = KeyRetirement.from_json(_read_record(path))
        except (ValueError, OSError) as exc:
            problems.append(f"{path.name}: not a key retirement record ({exc})")
            continue
        if path.name != f"{record.key_id}{RETIRED_SUFFIX}":
            problems.append(f"{path.name}: names key {record.key_id} in its text")
            continue
        found[record.key_id] = record
    return Retirements(found, tuple(problems))


@asynccontextmanager
async def checkpoint_turn(directory: Path) -> AsyncIterator[None]:
    """Hold the checkpoint directory's lock while the block runs (across processes).

    Writers of checkpoints and rotations of the signing key take turns: a checkpoint is never
    signed with a key that is being retired. The lock is an ``flock`` on a file in
    ``directory``, taken without blocking the event loop (polled), so a cancelled waiter
    leaves nothing held; the kernel releases it if the process dies.
    """
    descriptor = await asyncio.to_thread(_open_lock_file, directory)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(_LOCK_POLL_S)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _open_lock_file(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
