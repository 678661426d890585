"""A step's secret put into a file name reaches no record: the attack of the security review.

A command step gets a secret in its environment (``secret_env``) and runs
``touch "artifacts/name-$TOKEN.txt"``: the program names an artifact after the secret. The step
is a ``write`` step, approved through the approvals service, and runs in the app's own engine
while the run page's live stream is read. Afterwards the secret must be in none of: any row of
any table (the events and artifacts among them), the blobs (the run report), the pages and API
answers about the run and its artifacts, the stream, or the log records at DEBUG.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from missionctl.db.base import Base
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.settings import Settings
from tests.web.conftest import LiveApp
from tests.web.support import HTMX, Message, messages, start_steps, wait_for_run

TOUCH = 'mkdir -p artifacts && touch "artifacts/name-$TOKEN.txt"'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Workspaces kept: the test looks at the file the program named after the secret.
    return settings.model_copy(update={"log_level": "DEBUG", "keep_workspaces": True})


async def _read_stream(live_app: LiveApp, url: str, into: list[Message]) -> None:
    async with live_app.http.stream("GET", url, headers=HTMX) as response:
        # Read until cancelled; a timeout per message would close the stream at the first pause.
        async for message in messages(response):
            into.append(message)


async def _every_row(live_app: LiveApp) -> str:
    """The raw text of every row of every table."""
    rows: list[str] = []
    async with live_app.ctx.read() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            rows += [f"{table.name}: {tuple(row)!r}" for row in result.all()]
    return "\n".join(rows)


async def _reports_written(live_app: LiveApp, run_id: uuid.UUID) -> bool:
    artifacts = await read_artifacts(live_app.ctx, run_id=run_id)
    return any(a.kind == "report" for a in artifacts)


async def test_a_secret_in_an_artifact_name_is_redacted_everywhere(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    secret = f"tok{uuid.uuid4().hex}"
    monkeypatch.setenv("MISSIONCTL_SECRET_CANARY_FILE", secret)
    ctx = live_app.ctx
    step: dict[str, Any] = {
        "id": "touch",
        "agent": "command",
        "risk_tier": "write",
        "inputs": {"argv": ["sh", "-c", TOUCH], "secret_env": {"TOKEN": "canary_file"}},
    }
    run = await start_steps(ctx, None, [step])
    await wait_for_run(ctx, run.id, lambda r: r.steps[0].status == "awaiting_approval")

    streamed: list[Message] = []
    reader = asyncio.create_task(_read_stream(live_app, f"/runs/{run.id}/stream", streamed))
    (approval,) = await list_approvals(ctx, run_id=run.id)
    await decide_approval(ctx, ref=approval.id, approve=True, actor="user:tester")
    done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", [(s.step_id, s.status, s.error) for s in done.steps]
    deadline = asyncio.get_running_loop().time() + 20
    while not await _reports_written(live_app, run.id):
        assert asyncio.get_running_loop().time() < deadline, "no report was written"
        await asyncio.sleep(0.05)
    # The stream catches up with the report's events; on a loaded machine that takes a while.
    deadline = asyncio.get_running_loop().time() + 20
    while not any("name-[REDACTED].txt" in m.text for m in streamed):
        if asyncio.get_running_loop().time() > deadline:
            break  # the assertion below says what is missing
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader

    # The program did see the secret: its file carries it in the step's workspace.
    workspace = ctx.settings.home / "workspaces" / str(run.id) / "touch" / "artifacts"
    assert (workspace / f"name-{secret}.txt").is_file()

    recorded: dict[str, str] = {"every row": await _every_row(live_app)}
    for path in sorted(ctx.settings.blob_dir.rglob("*")):
        if path.is_file():
            recorded[f"blob {path.name}"] = path.read_bytes().decode("utf-8", "replace")
    artifacts = await read_artifacts(ctx, run_id=run.id)
    urls = [
        f"/runs/{run.id}",
        f"/runs/{run.id}/steps/touch",
        f"/api/v1/runs/{run.id}",
        f"/api/v1/runs/{run.id}/events",
        f"/api/v1/runs/{run.id}/artifacts",
        f"/api/v1/runs/{run.id}/report",
        f"/api/v1/runs/{run.id}/report?format=markdown",
    ]
    for artifact in artifacts:
        urls += [
            f"/artifacts/{artifact.id}",
            f"/api/v1/artifacts/{artifact.id}",
            f"/api/v1/artifacts/{artifact.id}/content",
        ]
    for url in urls:
        response = await live_app.http.get(url, headers={"accept": "text/html"})
        assert response.status_code == 200, (url, response.status_code)
        recorded[url] = response.text + str(response.headers)
    recorded["stream"] = "\n".join(m.text for m in streamed)
    recorded["log"] = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )

    leaks = [where for where, content in recorded.items() if secret in content]
    assert not leaks, leaks
    # ... and the searches were not vacuous: the artifact is there under its redacted name.
    assert "name-[REDACTED].txt" in [a.name for a in artifacts]
    assert any("name-[REDACTED].txt" in m.text for m in streamed), "the stream showed no artifact"
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
