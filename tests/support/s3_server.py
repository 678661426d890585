"""An S3-compatible server on 127.0.0.1 for the tests of the bucket blob store (ADR 0114).

It is moto's S3 server (``make s3-server`` installs it in a virtual environment of its own),
run as a process for the whole session: it speaks S3's HTTP API (signed requests, multipart
uploads, conditional requests), so the product's client talks to it as it would to a bucket
elsewhere, and so do the processes a test starts (a worker, ``missionctl``). Each test gets a
bucket of its own. The test's own look into a bucket goes through the same client library.
"""

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import obstore
import pytest
from obstore.store import S3Store

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key-never-shown-0f4c2a"
REGION = "us-east-1"
MOTO_SERVER = Path(sys.prefix) / "s3-server" / "bin" / "moto_server"


@dataclass(frozen=True)
class ScratchBucket:
    """A fresh bucket on the test server, and the settings that name it."""

    endpoint: str
    name: str
    prefix: str = "blobs"

    @property
    def url(self) -> str:
        """``MISSIONCTL_BLOBS_URL``."""
        return f"s3://{self.name}/{self.prefix}"

    def env(self) -> dict[str, str]:
        """The ``MISSIONCTL_BLOBS_*`` variables of a process that should use the bucket."""
        return {
            "MISSIONCTL_BLOBS_URL": self.url,
            "MISSIONCTL_BLOBS_ENDPOINT": self.endpoint,
            "MISSIONCTL_BLOBS_REGION": REGION,
            "MISSIONCTL_BLOBS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "MISSIONCTL_BLOBS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def store(self) -> S3Store:
        """A client of the whole bucket (no prefix)."""
        return S3Store(
            self.name,
            config={
                "endpoint": self.endpoint,
                "region": REGION,
                "access_key_id": ACCESS_KEY_ID,
                "secret_access_key": SECRET_ACCESS_KEY,
                "virtual_hosted_style_request": False,
            },
            client_options={"allow_http": True},
        )

    def object_keys(self) -> list[str]:
        """Every object key in the bucket."""
        return sorted(meta["path"] for batch in obstore.list(self.store()) for meta in batch)

    def read(self, key: str) -> bytes:
        """One object's bytes."""
        return bytes(obstore.get(self.store(), key).bytes())

    def write(self, key: str, data: bytes) -> None:
        """Put ``data`` at ``key`` (a test that damages a blob)."""
        obstore.put(self.store(), key, data)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The test S3 server's address, for the whole session."""
    if not MOTO_SERVER.exists():
        pytest.fail(f"{MOTO_SERVER} is missing: run `make s3-server`")
    port = _free_port()
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx2.TransportError):
                httpx2.get(f"{endpoint}/moto-api/", timeout=2)
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the S3 test server did not start")
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint: str) -> ScratchBucket:
    """A new, empty bucket."""
    made = ScratchBucket(endpoint=s3_endpoint, name=f"mc-{uuid.uuid4().hex[:20]}")
    created = httpx2.put(f"{s3_endpoint}/{made.name}", timeout=10)
    created.raise_for_status()
    return made
