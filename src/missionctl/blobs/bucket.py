"""The blob store in an S3-compatible bucket (ADR 0114), content-addressed as on disk.

An object's key is ``<prefix>/<aa>/<bb>/<sha256>``, the directory store's layout, so a home's
blobs copied to a bucket keep their names (``missionctl blobs copy``). Writing streams: chunks
are hashed while they are spooled to a private temporary file on this machine (the name of an
object is its digest, known only at the end), then the file is uploaded, in parts when large;
an object already there is not uploaded again. Reading streams too (:meth:`iter_chunks`).

Any failure to reach the bucket is :class:`BlobStoreUnavailable` (a 503 that names the bucket,
never its credentials); a missing object is ``NotFound``, as on disk.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import obstore
from obstore.store import S3Store

from missionctl.blobs.store import CHUNK_BYTES, BlobRef, blob_key, spool
from missionctl.errors import BlobStoreUnavailable, NotFound

if TYPE_CHECKING:
    from obstore.store import S3Config

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BucketAddress:
    """Where the bucket is and how to sign in to it (``MISSIONCTL_BLOBS_*``).

    ``endpoint``: an S3-compatible server's address (``None``: AWS itself); one that starts
    with ``http://`` is allowed plain HTTP (a server on the same host or network).
    """

    bucket: str
    prefix: str
    region: str
    endpoint: str | None
    access_key_id: str | None
    secret_access_key: str | None

    @property
    def url(self) -> str:
        """``s3://bucket/prefix``, as configured (no credentials)."""
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def open_bucket(address: BucketAddress) -> S3Store:
    """An object store client for ``address`` (path-style requests when an endpoint is set)."""
    config: S3Config = {"region": address.region}
    if address.endpoint is not None:
        config["endpoint"] = address.endpoint
        config["virtual_hosted_style_request"] = False
    if address.access_key_id is not None and address.secret_access_key is not None:
        config["access_key_id"] = address.access_key_id
        config["secret_access_key"] = address.secret_access_key
    plain_http = address.endpoint is not None and address.endpoint.startswith("http://")
    return S3Store(
        address.bucket,
        prefix=address.prefix or None,
        config=config,
        client_options={"allow_http": plain_http, "timeout": "60s", "connect_timeout": "5s"},
        # A hiccup is retried; a bucket that stays down is said within seconds (a page waits).
        retry_config={"max_retries": 2, "retry_timeout": timedelta(seconds=5)},
    )


class BucketStore:
    """Stores and returns blobs in the bucket at ``address``; spools writes under ``spool``."""

    def __init__(self, address: BucketAddress, *, spool: Path) -> None:
        self.address = address
        self.spool = spool
        self._store = open_bucket(address)

    def put_bytes(self, data: bytes) -> BlobRef:
        """Store ``data``; returns its reference (idempotent)."""
        ref = BlobRef(hashlib.sha256(data).hexdigest(), len(data))
        if not self.exists(ref.sha256):
            self._call(lambda: obstore.put(self._store, blob_key(ref.sha256), data), write=True)
        return ref

    def put_chunks(self, chunks: Iterable[bytes]) -> BlobRef:
        """Store the concatenation of ``chunks``, holding one chunk in memory at a time."""
        ref, spooled = spool(chunks, self.spool)
        try:
            self._upload(ref, spooled)
            return ref
        finally:
            spooled.unlink(missing_ok=True)

    def put_file(self, source: Path) -> BlobRef:
        """Store a copy of the file at ``source`` (read twice: to hash it, then to upload)."""
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                size += len(chunk)
        ref = BlobRef(digest.hexdigest(), size)
        self._upload(ref, source)
        return ref

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        key = blob_key(sha256)
        try:
            self._call(lambda: obstore.head(self._store, key))
        except NotFound:
            return False
        return True

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's content.

        Raises:
            NotFound: no blob with that digest.
        """
        key = blob_key(sha256)
        return bytes(self._call(lambda: obstore.get(self._store, key).bytes()))

    def iter_chunks(self, sha256: str) -> Iterator[bytes]:
        """The blob's content, a chunk at a time.

        Raises:
            NotFound: no blob with that digest (before the first chunk).
        """
        key = blob_key(sha256)
        result = self._call(lambda: obstore.get(self._store, key))
        stream = result.stream(min_chunk_size=CHUNK_BYTES)
        while True:
            chunk = self._call(lambda: next(stream, None))
            if chunk is None:
                return
            yield bytes(chunk)

    def location(self, sha256: str) -> str:
        """The blob's object URL, ``s3://bucket/prefix/aa/bb/<sha256>``."""
        return f"{self.address.url}/{blob_key(sha256)}"

    def _upload(self, ref: BlobRef, source: Path) -> None:
        if not self.exists(ref.sha256):
            self._call(lambda: obstore.put(self._store, blob_key(ref.sha256), source), write=True)

    def _call(self, request: Callable[[], T], *, write: bool = False) -> T:
        """``request()``, its failures said in the product's words (no credentials).

        A 404 is a missing blob when reading, and a missing bucket when writing.
        """
        try:
            return request()
        except FileNotFoundError as exc:
            if not write:
                raise NotFound("no such blob in the bucket", field="sha256") from None
            raise self._unavailable(exc) from None
        except Exception as exc:  # the client's errors (network, signature, server)
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> BlobStoreUnavailable:
        # Only the kind of failure: the client's message may quote request headers.
        return BlobStoreUnavailable(
            f"the blob store {self.address.url} refused or did not answer "
            f"({type(exc).__name__}); check MISSIONCTL_BLOBS_URL, MISSIONCTL_BLOBS_ENDPOINT "
            "and its credentials"
        )
