"""An artifact handed over as a stream is stored as its bytes would be: redacted, chunk by chunk.

The engine stores the files a ``command`` step kept as streams (``agents.workspace_files``);
``put_blob`` copies them into the blob store a chunk at a time. A registered secret split by a
chunk boundary must still be replaced, and the blob must be the one the same bytes give.
"""

import io

from missionctl.llm.redaction import REDACTED, register_secret
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import put_blob

SECRET = "stream-blob-secret-canary"


async def test_a_streamed_artifact_is_stored_redacted_like_its_bytes(ctx: ServiceContext) -> None:
    register_secret(SECRET)  # as every MISSIONCTL_SECRET_* value of the process is
    # The secret straddles the first 1 MiB chunk's end: half in one read, half in the next.
    content = b"a" * ((1 << 20) - 10) + SECRET.encode() + b"b" * 1000

    streamed = put_blob(ctx, io.BytesIO(content))
    whole = put_blob(ctx, content)

    assert streamed == whole
    stored = ctx.blobs.read_bytes(streamed.sha256)
    assert SECRET.encode() not in stored
    assert stored == b"a" * ((1 << 20) - 10) + REDACTED.encode() + b"b" * 1000
