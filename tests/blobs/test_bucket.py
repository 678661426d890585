"""The blob store in an S3-compatible bucket: the directory store's contract, over S3's API."""

import hashlib
import os
import stat
from pathlib import Path

import obstore
import pytest

from missionctl.blobs.bucket import BucketAddress, BucketStore
from missionctl.errors import BlobStoreUnavailable, NotFound, ValidationFailed
from tests.support.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, ScratchBucket


def _store(
    bucket: ScratchBucket, tmp_path: Path, *, secret: str = SECRET_ACCESS_KEY
) -> BucketStore:
    address = BucketAddress(
        bucket=bucket.name,
        prefix=bucket.prefix,
        region=REGION,
        endpoint=bucket.endpoint,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=secret,
    )
    return BucketStore(address, spool=tmp_path / "spool")


def test_put_is_content_addressed_idempotent_and_laid_out_as_on_disk(
    bucket: ScratchBucket, tmp_path: Path
) -> None:
    store = _store(bucket, tmp_path)
    data = b"# Report\n\nall good\n"
    ref = store.put_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    assert (ref.sha256, ref.size) == (sha, len(data))
    assert store.put_bytes(data) == ref
    assert bucket.object_keys() == [f"blobs/{sha[:2]}/{sha[2:4]}/{sha}"]
    assert bucket.read(bucket.object_keys()[0]) == data
    assert store.read_bytes(sha) == data and store.exists(sha)
    assert store.location(sha) == f"s3://{bucket.name}/blobs/{sha[:2]}/{sha[2:4]}/{sha}"


def test_a_large_stream_goes_up_in_parts_and_leaves_no_spool(
    bucket: ScratchBucket, tmp_path: Path
) -> None:
    store = _store(bucket, tmp_path)
    chunk = os.urandom(1 << 20)
    chunks = [chunk] * 12  # 12 MiB: more than one 5 MiB part
    ref = store.put_chunks(iter(chunks))
    expected = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert (ref.sha256, ref.size) == (expected, 12 << 20)
    head = obstore.head(bucket.store(), f"blobs/{expected[:2]}/{expected[2:4]}/{expected}")
    assert "-" in (head["e_tag"] or "")  # a multipart upload's ETag: the file went up in parts
    read_back = hashlib.sha256()
    pieces = 0
    for piece in store.iter_chunks(expected):
        read_back.update(piece)
        pieces += 1
    assert read_back.hexdigest() == expected and pieces > 1
    spool = tmp_path / "spool"
    assert list(spool.iterdir()) == []
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700


def test_put_file_and_a_failed_stream_leave_nothing_behind(
    bucket: ScratchBucket, tmp_path: Path
) -> None:
    store = _store(bucket, tmp_path)
    source = tmp_path / "build.log"
    source.write_bytes(b"line\n" * 100_000)
    ref = store.put_file(source)
    assert store.read_bytes(ref.sha256) == source.read_bytes()

    def failing() -> object:
        yield b"partial"
        raise OSError("the agent's spool file vanished")

    with pytest.raises(OSError, match="vanished"):
        store.put_chunks(failing())  # type: ignore[arg-type]
    assert len(bucket.object_keys()) == 1
    assert list((tmp_path / "spool").iterdir()) == []


def test_unknown_and_malformed_digests(bucket: ScratchBucket, tmp_path: Path) -> None:
    store = _store(bucket, tmp_path)
    with pytest.raises(NotFound):
        store.read_bytes("0" * 64)
    with pytest.raises(NotFound):
        next(store.iter_chunks("1" * 64))
    assert not store.exists("2" * 64)
    for bad in ["../../etc/passwd", "ABC", "g" * 64, "a" * 64 + "/../x"]:
        with pytest.raises(ValidationFailed):
            store.read_bytes(bad)
        with pytest.raises(ValidationFailed):
            store.exists(bad)


def test_a_bucket_that_does_not_answer_is_unavailable_and_never_shows_its_secret(
    bucket: ScratchBucket, tmp_path: Path
) -> None:
    secret = "wJalrXUtnFEMI-canary-secret-8c1d"
    missing = ScratchBucket(endpoint=bucket.endpoint, name="mc-no-such-bucket")
    with pytest.raises(BlobStoreUnavailable) as refused:
        _store(missing, tmp_path, secret=secret).put_bytes(b"into a bucket nobody made")
    assert "s3://mc-no-such-bucket/blobs" in refused.value.message
    assert secret not in refused.value.message
    gone = BucketAddress(
        bucket="nowhere-bucket",
        prefix="",
        region=REGION,
        endpoint="http://127.0.0.1:9",
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=secret,
    )
    with pytest.raises(BlobStoreUnavailable) as down:
        BucketStore(gone, spool=tmp_path / "spool").read_bytes("3" * 64)
    assert "s3://nowhere-bucket" in down.value.message and secret not in down.value.message
