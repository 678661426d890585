"""``missionctl blobs copy``: a home's blobs into a bucket, every digest checked both ways."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from missionctl.blobs import BlobStore
from tests.support.s3_server import ScratchBucket

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))


def _copy(home: Path, bucket: ScratchBucket | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env |= {"MISSIONCTL_HOME": str(home), **(bucket.env() if bucket else {})}
    return subprocess.run(
        [MISSIONCTL, "blobs", "copy", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _home_with_blobs(tmp_path: Path) -> tuple[Path, list[str]]:
    home = tmp_path / "home"
    store = BlobStore(home / "blobs")
    contents = [b"# Run report\n", b"diff --git a/x b/x\n", os.urandom(3 << 20)]
    digests = [store.put_bytes(content).sha256 for content in contents]
    (home / "blobs" / "tmp" / "stray").write_bytes(b"an unfinished write is not a blob")
    return home, digests


def test_copy_sends_each_blob_once_and_reads_every_one_back(
    tmp_path: Path, bucket: ScratchBucket
) -> None:
    home, digests = _home_with_blobs(tmp_path)
    first = _copy(home, bucket)
    assert first.returncode == 0, first.stderr
    assert "3 blobs" in first.stdout and "3 copied, 0 already" in first.stdout
    assert "3 read back with their digest" in first.stdout
    keys = bucket.object_keys()
    assert keys == sorted(f"blobs/{d[:2]}/{d[2:4]}/{d}" for d in digests)
    assert all(hashlib.sha256(bucket.read(key)).hexdigest() == key[-64:] for key in keys)
    again = _copy(home, bucket)
    assert again.returncode == 0 and "0 copied, 3 already" in again.stdout


def test_a_damaged_blob_is_not_sent_and_a_wrong_copy_is_named(
    tmp_path: Path, bucket: ScratchBucket
) -> None:
    home, digests = _home_with_blobs(tmp_path)
    damaged = BlobStore(home / "blobs").path(digests[0])
    damaged.write_bytes(b"# Run report, edited by hand\n")
    # The bucket already holds something else under the second blob's name.
    bucket.write(f"blobs/{digests[1][:2]}/{digests[1][2:4]}/{digests[1]}", b"not that diff")
    done = _copy(home, bucket)
    assert done.returncode == 1
    assert f"damaged here (its bytes no longer match its name): {digests[0]}" in done.stderr
    assert f"does not read back from the bucket with its digest: {digests[1]}" in done.stderr
    assert "1 copied" in done.stdout and "1 read back" in done.stdout
    assert not any(key.endswith(digests[0]) for key in bucket.object_keys())


def test_copy_needs_a_bucket_and_a_directory_and_names_what_is_missing(
    tmp_path: Path, bucket: ScratchBucket
) -> None:
    home, _ = _home_with_blobs(tmp_path)
    unset = _copy(home, None)
    assert unset.returncode == 2 and "MISSIONCTL_BLOBS_URL is not set" in unset.stderr
    missing = _copy(home, bucket, "--from", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "--from: no directory" in missing.stderr
    nobody = ScratchBucket(endpoint="http://127.0.0.1:9", name="mc-unreachable")
    down = _copy(home, nobody)
    assert down.returncode == 3, down.stderr
    assert "s3://mc-unreachable/blobs" in down.stderr and "Traceback" not in down.stderr
    assert "test-secret-key" not in down.stderr + down.stdout
