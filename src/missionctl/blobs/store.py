"""The blob store's contract (:class:`Blobs`), and its default: a content-addressed directory.

A blob's name is the sha256 of its bytes.

Layout: ``<root>/<aa>/<bb>/<sha256>`` (two fan-out levels keep directories small). Writing the
same content twice stores it once. Writes go to a temporary file in ``<root>/tmp`` that is
fsynced and then renamed into place, so a reader never sees a partial blob and a crash leaves at
most a stray temporary file. Directories are created with mode 0700 and blobs with 0600 (a
temporary file's own): only the server's user reads them. The API is synchronous (plain file
I/O); async callers run it in a worker thread. ``blobs.bucket`` keeps the same layout in an
S3-compatible bucket.
"""

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from missionctl.errors import NotFound, Problem, ValidationFailed

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK_BYTES = 1 << 20
"""How much of a blob is read or written at a time."""


@dataclass(frozen=True, slots=True)
class BlobRef:
    """Where a blob is: its digest and size; ``uri`` is what artifact rows store."""

    sha256: str
    size: int

    @property
    def uri(self) -> str:
        """``blob:sha256:<hex>``."""
        return f"blob:sha256:{self.sha256}"


def blob_key(sha256: str) -> str:
    """A blob's name under the store's root: ``<aa>/<bb>/<sha256>``.

    Raises:
        ValidationFailed: ``sha256`` is not 64 lower-case hex digits.
    """
    if not _SHA256.match(sha256):
        raise ValidationFailed([Problem("sha256", "must be 64 lower-case hex digits")])
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class Blobs(Protocol):
    """What every blob store does (a directory, a bucket): content-addressed and idempotent.

    Each method blocks; async callers run it in a worker thread. ``read_bytes`` and
    ``iter_chunks`` raise ``NotFound`` for a digest not stored; every method raises
    ``ValidationFailed`` for a malformed one.
    """

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data``; returns its reference."""
        ...

    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef:
        """Store the concatenation of ``chunks`` without holding it all in memory."""
        ...

    def put_file(self, source: Path) -> BlobRef:
        """Store a copy of the file at ``source``."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        ...

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's content."""
        ...

    def iter_chunks(self, sha256: str) -> Iterator[bytes]:
        """The blob's content, a chunk at a time."""
        ...

    def location(self, sha256: str) -> str:
        """Where the blob is, for a person to read: a file path or an object URL."""
        ...


def private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each with mode 0700.

    ``mkdir(parents=True)`` gives the parents it creates the default mode, not ``mode``.
    """
    missing = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def spool(chunks: Iterable[bytes], directory: Path) -> tuple[BlobRef, Path]:
    """Write ``chunks`` to a new private file in ``directory``, hashing them on the way.

    Returns the blob's reference and the file (fsynced; the caller moves or removes it). A
    failure removes the file and raises. The name of a blob is known only at its end, so a
    store writes it aside first.
    """
    private_dirs(directory)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return BlobRef(digest.hexdigest(), size), Path(name)


class BlobStore:
    """Stores and returns blobs under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data``; returns its reference (idempotent)."""
        return self.put_chunks([data])

    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef:
        """Store the concatenation of ``chunks`` without holding it all in memory."""
        ref, spooled = spool(chunks, self.root / "tmp")
        try:
            final = self.path(ref.sha256)
            if not final.exists():
                private_dirs(final.parent)
                os.replace(spooled, final)
            return ref
        finally:
            spooled.unlink(missing_ok=True)  # already moved into place, unless it was there

    def put_file(self, source: Path) -> BlobRef:
        """Store a copy of the file at ``source``."""
        with source.open("rb") as handle:
            return self.put_chunks(iter(lambda: handle.read(CHUNK_BYTES), b""))

    def path(self, sha256: str) -> Path:
        """The file path of a blob (which may not exist).

        Raises:
            ValidationFailed: ``sha256`` is not 64 lower-case hex digits.
        """
        return self.root / blob_key(sha256)

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        return self.path(sha256).is_file()

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's content.

        Raises:
            NotFound: no blob with that digest.
        """
        path = self.path(sha256)
        if not path.is_file():
            raise NotFound(f"no blob {sha256}", field="sha256")
        return path.read_bytes()

    def iter_chunks(self, sha256: str) -> Iterator[bytes]:
        """The blob's content, a chunk at a time.

        Raises:
            NotFound: no blob with that digest (before the first chunk).
        """
        try:
            handle = self.path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFound(f"no blob {sha256}", field="sha256") from None
        with handle:
            yield from iter(lambda: handle.read(CHUNK_BYTES), b"")

    def location(self, sha256: str) -> str:
        """The blob's file path."""
        return str(self.path(sha256))
