"""A mission's run keeps its artifacts and report in the bucket, and they come back out of it.

With ``MISSIONCTL_BLOBS_URL`` set, nothing is written under the data directory's ``blobs/``:
the engine stores what its steps leave and the run's report in the bucket, and the pages and
the API serve them from there. A worker with a data directory of its own (another machine)
stores into the same bucket, and the server serves what it stored (ADR 0114).
"""

import asyncio
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.app import create_app
from missionctl.errors import IntegrityError
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import (
    NewArtifact,
    add_artifacts,
    put_blobs,
    read_artifacts,
)
from missionctl.settings import BlobSettings, EngineSettings, Settings
from tests.engine.helpers import allow
from tests.support.auth import bearer_headers
from tests.support.s3_server import SECRET_ACCESS_KEY, ScratchBucket
from tests.web.support import planned_mission, start_steps, wait_for_run

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))
NOTES = "# Migration notes\n\nThe orders table gains a `shipped_at` column.\n"
WRITE_ARTIFACTS = (
    "import json, pathlib; "
    "pathlib.Path('artifacts/notes.md').write_text(" + repr(NOTES) + "); "
    "pathlib.Path('artifacts/rows.json').write_text(json.dumps({'rows': list(range(50))}))"
)
STEPS = [
    {
        "id": "migrate",
        "agent": "command",
        "inputs": {"argv": [sys.executable, "-c", WRITE_ARTIFACTS]},
    }
]


def _in_bucket(settings: Settings, bucket: ScratchBucket, **changes: object) -> Settings:
    blobs = BlobSettings.model_validate(
        {
            key.removeprefix("MISSIONCTL_BLOBS_").lower(): value
            for key, value in bucket.env().items()
        }
    )
    return settings.model_copy(update={"blobs": blobs, **changes})


@pytest.fixture
async def served(settings: Settings, bucket: ScratchBucket) -> AsyncIterator[FastAPI]:
    """The app on the bucket, its engine running."""
    app = create_app(_in_bucket(settings, bucket))
    async with app.router.lifespan_context(app):
        yield app


async def _reported(
    ctx: ServiceContext, run_id: object, within_s: float = 20
) -> list[ArtifactRead]:
    """The run's artifacts once its report is among them (it is written as the run ends)."""
    deadline = time.monotonic() + within_s
    while True:
        artifacts = await read_artifacts(ctx, run_id=run_id)  # type: ignore[arg-type]
        if any(a.kind == "report" for a in artifacts) or time.monotonic() > deadline:
            return artifacts
        await asyncio.sleep(0.1)


def _key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _client(app: FastAPI, headers: dict[str, str]) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://t", headers=headers)


async def _all_served(
    http: httpx2.AsyncClient, artifacts: list[ArtifactRead], bucket: ScratchBucket
) -> None:
    """Each artifact's download: its recorded bytes, the bucket's object."""
    for artifact in artifacts:
        got = await http.get(f"/api/v1/artifacts/{artifact.id}/content")
        assert got.status_code == 200, got.text
        assert hashlib.sha256(got.content).hexdigest() == artifact.sha256
        assert got.content == bucket.read(_key(artifact.sha256))


async def test_a_missions_artifacts_and_report_live_in_the_bucket_and_are_served(
    served: FastAPI, bucket: ScratchBucket, settings: Settings
) -> None:
    ctx: ServiceContext = served.state.ctx
    headers = await bearer_headers(ctx)
    await allow(ctx, sys.executable)
    mission = await planned_mission(ctx, "Add a shipped_at column to the orders table")
    run = await start_steps(ctx, mission.id, STEPS)
    assert (await wait_for_run(ctx, run.id)).status == "completed"
    artifacts = await _reported(ctx, run.id)
    names = {a.name for a in artifacts}
    assert {"notes.md", "rows.json", "report.md", "report.json"} <= names, names
    keys = set(bucket.object_keys())
    assert {_key(a.sha256) for a in artifacts} <= keys
    assert not (settings.home / "blobs").exists()  # nothing went to the data directory

    async with _client(served, headers) as http:
        await _all_served(http, artifacts, bucket)
        notes = next(a for a in artifacts if a.name == "notes.md")
        page = await http.get(f"/artifacts/{notes.id}")
        assert page.status_code == 200 and "shipped_at" in page.text
        report = next(a for a in artifacts if a.name == "report.md")
        assert "migrate" in (await http.get(f"/api/v1/artifacts/{report.id}/content")).text
        pack = await http.get(f"/api/v1/missions/{mission.id}/pack")
        assert pack.status_code == 200
        assert "AGENTS.md" in zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
        rows = next(a for a in artifacts if a.name == "rows.json")
        got = await http.get(f"/api/v1/artifacts/{rows.id}/content")
        assert json.loads(got.content) == {"rows": list(range(50))}


@pytest.mark.one_database  # the bucket's answer, whatever the database
async def test_a_bucket_that_does_not_answer_is_a_503_that_names_it(
    settings: Settings, bucket: ScratchBucket
) -> None:
    quiet = EngineSettings(embedded=False)
    app = create_app(_in_bucket(settings, bucket, engine=quiet))
    async with app.router.lifespan_context(app):
        ctx: ServiceContext = app.state.ctx
        new = NewArtifact(name="plan.md", kind="markdown", media_type="text/markdown", content=b"x")
        [blob] = await put_blobs(ctx, [new])
        async with ctx.write() as session:
            [artifact] = await add_artifacts(
                session, stored=[(new, blob)], run_id=None, mission_id=None
            )
        headers = await bearer_headers(ctx)
    # The same database, its bucket now at an address where nothing answers.
    gone = ScratchBucket(endpoint="http://127.0.0.1:9", name=bucket.name)
    app = create_app(_in_bucket(settings, gone, engine=quiet))
    async with app.router.lifespan_context(app), _client(app, headers) as http:
        got = await http.get(f"/api/v1/artifacts/{artifact.id}/content")
        page = await http.get(f"/artifacts/{artifact.id}")
    assert got.status_code == 503, got.text
    assert got.json()["error"]["code"] == "blob_store_unavailable"
    assert f"s3://{bucket.name}/blobs" in got.json()["error"]["message"]
    assert page.status_code == 503
    assert SECRET_ACCESS_KEY not in got.text + page.text


async def test_a_worker_with_its_own_home_stores_what_the_server_serves(
    settings: Settings, bucket: ScratchBucket, tmp_path: Path
) -> None:
    server_settings = _in_bucket(settings, bucket, engine=EngineSettings(embedded=False))
    app = create_app(server_settings)
    worker_home = tmp_path / "worker-home"
    worker_home.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env |= bucket.env() | {
        "MISSIONCTL_HOME": str(worker_home),
        "MISSIONCTL_DATABASE_URL": settings.database_url,
        "MISSIONCTL_ENGINE_POLL_S": "0.05",
    }
    async with app.router.lifespan_context(app):
        ctx: ServiceContext = app.state.ctx
        headers = await bearer_headers(ctx)
        await allow(ctx, sys.executable)
        mission = await planned_mission(ctx, "Export the orders table for the auditors")
        run = await start_steps(ctx, mission.id, STEPS)
        worker = subprocess.Popen(  # noqa: ASYNC220 - a process that runs beside the test
            [MISSIONCTL, "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            done = await wait_for_run(ctx, run.id, within_s=60)
            artifacts = await _reported(ctx, run.id)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            _, errors = worker.communicate(timeout=60)
        assert done.status == "completed", errors.decode()[-2000:]
        assert {"notes.md", "report.md"} <= {a.name for a in artifacts}
        async with _client(app, headers) as http:
            await _all_served(http, artifacts, bucket)
    assert not (worker_home / "blobs").exists() and not (settings.home / "blobs").exists()
    assert {_key(a.sha256) for a in artifacts} <= set(bucket.object_keys())


@pytest.mark.one_database  # the bucket's bytes, whatever the database
async def test_a_download_streams_and_is_cut_off_when_the_bucket_holds_other_bytes(
    settings: Settings, bucket: ScratchBucket
) -> None:
    quiet = EngineSettings(embedded=False)
    app = create_app(_in_bucket(settings, bucket, engine=quiet))
    content = os.urandom(6 << 20)
    async with app.router.lifespan_context(app):
        ctx: ServiceContext = app.state.ctx
        new = NewArtifact(
            name="dump.bin", kind="file", media_type="application/octet-stream", content=content
        )
        [blob] = await put_blobs(ctx, [new])
        async with ctx.write() as session:
            [artifact] = await add_artifacts(
                session, stored=[(new, blob)], run_id=None, mission_id=None
            )
        headers = await bearer_headers(ctx)
        async with _client(app, headers) as http:
            async with http.stream("GET", f"/api/v1/artifacts/{artifact.id}/content") as got:
                assert got.headers["content-length"] == str(len(content))
                pieces = [piece async for piece in got.aiter_raw()]
            assert b"".join(pieces) == content
            # Someone with access to the bucket puts other bytes under the blob's name.
            bucket.write(_key(artifact.sha256), os.urandom(len(content)))
            # The server finds it at the end, before the last chunk: the download never
            # completes (a real server cuts the connection short of its Content-Length).
            with pytest.raises(RuntimeError) as cut:
                await http.get(f"/api/v1/artifacts/{artifact.id}/content")
            assert isinstance(cut.value.__cause__, IntegrityError)
            assert "does not match its sha256" in cut.value.__cause__.message
