"""The content-addressed blob store."""

import hashlib
from pathlib import Path

import pytest

from missionctl.blobs import BlobStore
from missionctl.errors import NotFound, ValidationFailed


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = b"# Report\n\nall good\n"
    ref = store.put_bytes(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert ref.uri == f"blob:sha256:{ref.sha256}"
    assert store.read_bytes(ref.sha256) == data
    assert store.put_bytes(data) == ref
    stored = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert stored == [store.path(ref.sha256)]  # one copy, no temporary files left behind


def test_put_file_streams(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (3 * 1024 * 1024 + 7))
    ref = BlobStore(tmp_path / "blobs").put_file(source)
    assert ref.size == 3 * 1024 * 1024 + 7
    assert ref.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()


def test_unknown_and_malformed_digests(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(NotFound):
        store.read_bytes("0" * 64)
    for bad in ["../../etc/passwd", "ABC", "g" * 64]:
        with pytest.raises(ValidationFailed):
            store.path(bad)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")

    def chunks():  # type: ignore[no-untyped-def]
        yield b"partial"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.put_chunks(chunks())
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []
