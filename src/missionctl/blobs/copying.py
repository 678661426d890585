"""Copying a data directory's blobs into another store, every one checked by its digest.

``missionctl blobs copy`` moves an installation's blobs to a bucket (ADR 0114). Each blob of
the directory is read and hashed first: one whose bytes no longer match its name is damaged
and is not copied. Each copied (or already present) blob is then read back from the target
and hashed: the copy is done only when every digest matches. Copying again copies nothing
twice and checks everything again.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from missionctl.blobs.store import CHUNK_BYTES, Blobs, BlobStore, blob_key


@dataclass
class CopyReport:
    """What a copy found and did; ``ok`` when every blob is in the target, checked."""

    found: int = 0
    copied: int = 0
    present: int = 0
    verified: int = 0
    bytes_checked: int = 0
    damaged: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every blob found is in the target and read back with its digest."""
        return not self.damaged and not self.mismatched and self.verified == self.found


def stored_digests(source: BlobStore) -> Iterator[str]:
    """The digests of the blobs under ``source.root`` (in its ``aa/bb/<sha256>`` layout).

    Anything else there (the temporary directory of unfinished writes, a stray file) is not
    a blob and is skipped.
    """
    if not source.root.is_dir():
        return
    for path in sorted(source.root.glob("??/??/*")):
        name = path.name
        if path.is_file() and len(name) == 64 and blob_key(name) == _relative(path, source.root):
            yield name


def copy_blobs(
    source: BlobStore, target: Blobs, *, progress: Callable[[str, str], None] | None = None
) -> CopyReport:
    """Copy every blob of ``source`` into ``target`` and check each copy's digest.

    ``progress(sha256, outcome)`` is called once per blob (``copied``, ``present``,
    ``damaged``, ``mismatched``).
    """
    report = CopyReport()
    for sha256 in stored_digests(source):
        report.found += 1
        outcome = _copy_one(source, target, sha256, report)
        if progress is not None:
            progress(sha256, outcome)
    return report


def _copy_one(source: BlobStore, target: Blobs, sha256: str, report: CopyReport) -> str:
    path = source.path(sha256)
    if _digest(iter_file(path)) != (sha256, path.stat().st_size):
        report.damaged.append(sha256)
        return "damaged"
    present = target.exists(sha256)
    if not present:
        target.put_file(path)
    if _digest(target.iter_chunks(sha256)) != (sha256, path.stat().st_size):
        report.mismatched.append(sha256)
        return "mismatched"
    report.verified += 1
    report.bytes_checked += path.stat().st_size
    if present:
        report.present += 1
        return "present"
    report.copied += 1
    return "copied"


def iter_file(path: Path) -> Iterator[bytes]:
    """The file's bytes, a chunk at a time."""
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(CHUNK_BYTES), b"")


def _digest(chunks: Iterator[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
