"""The real Codex CLI, pinned and installed by make, refused by its model endpoint.

A ``coding:codex`` step names its model endpoint (``inputs.model``): the shipped preset points
``codex exec`` at it as a custom model provider speaking the Responses API, hands the key over
as ``OPENAI_API_KEY``; Codex keeps its state in ``$HOME/.codex``, in the step's workspace. The
model is :class:`ScriptedResponsesServer` on 127.0.0.1; everything else is real: Codex runs in
the step sandbox, its own sandbox (``workspace-write``) inside it, on a git worktree of the
example repository (``examples/wordcount``, whose ``top_words`` is missing).

Codex writing ``top_words`` through its shell tool for a scripted model, the tests passing and
the gated merge landing on ``main``, is the test of ``missionctl demo coding --cli codex
--scripted-model`` (``tests/coding/test_demo_coding.py``), whose model plays
``src/missionctl/demo/coding_model_codex.yaml``.
"""

import asyncio
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from missionctl.demo.responses_server import HTTPError, ScriptedResponsesServer
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.settings import Settings
from tests.coding.helpers import allow_coding, coding_agents, git, merge_step, worktrees
from tests.coding.real_cli import NPM_BIN, TEST_COMMAND, example_repository, put_on_path
from tests.engine.helpers import allow, run_events, running_engine, start, wait_for_run

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-proj-scripted-" + "0123456789abcdef" * 2
SECRET = "openai"
APPROVER = "user:approver"
MODEL = "scripted-codex"
OUTSIDE_TMP = "/var/tmp"


def _codex_step(repo: Path, base_url: str) -> dict[str, Any]:
    return {
        "id": "build",
        "agent": "coding:codex",
        "inputs": {
            "prompt": "Write top_words in wordcount/__init__.py so that the tests pass.",
            "repository": str(repo),
            "base": "main",
            "approval_mode": "workspace-write",
            "test_command": TEST_COMMAND,
            "model": {"base_url": base_url, "secret": SECRET, "name": MODEL},
        },
    }


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    """The suite's settings with the data directory outside the system's temporary directory.

    Codex keeps its state in ``$HOME/.codex``, the step workspace (under the data directory),
    and refuses to put its helper programs there when that is under ``/tmp``; without them its
    own sandbox cannot start and every shell command fails. A real data directory is not there.
    """
    home = Path(tempfile.mkdtemp(prefix="missionctl-codex-", dir=OUTSIDE_TMP))
    yield settings.model_copy(update={"home": home})
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def codex_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI on the server's ``PATH`` (steps get it) and its key as the secret ``openai``."""
    put_on_path(monkeypatch, NPM_BIN)
    monkeypatch.setenv(f"MISSIONCTL_SECRET_{SECRET.upper()}", KEY)


async def _approve_each(ctx: ServiceContext, run_id: uuid.UUID, count: int) -> list[str]:
    """Approve the run's next ``count`` approvals as they come; returns their actions."""
    actions: list[str] = []
    seen: set[uuid.UUID] = set()
    for _ in range(1200):
        pending = [a for a in await list_approvals(ctx) if a.run_id == run_id and a.id not in seen]
        for approval in pending:
            seen.add(approval.id)
            actions.append(approval.action)
            await decide_approval(ctx, ref=approval.id, approve=True, actor=APPROVER)
        if len(actions) >= count:
            return actions
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(actions)} of {count} approvals came: {actions}")


async def _run(
    ctx: ServiceContext, root: Path, steps: list[dict[str, Any]], approvals: int
) -> RunRead:
    """Start ``steps``, approve each approval as another person, and wait for the run."""
    # Its model endpoint is its only network (the egress proxy): no approval for the network,
    # but the key's variable must be on the program's entry.
    await allow(ctx, "codex", env=("OPENAI_API_KEY",))
    await allow(ctx, "python")
    run = await start(ctx, steps)
    async with running_engine(ctx, agents=coding_agents(root, model_on_loopback=True)):
        approving = asyncio.create_task(_approve_each(ctx, run.id, approvals))
        try:
            done = await wait_for_run(ctx, run.id, within_s=90)
        finally:
            approving.cancel()
        return done


async def _key_nowhere(ctx: ServiceContext, run: RunRead) -> None:
    """No byte of the key in the data directory, the run's events or its step rows."""
    for path in ctx.settings.home.rglob("*"):  # blobs, workspaces, logs
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), path
    events = json.dumps([e.payload for e in await run_events(ctx, run.id)], default=str)
    assert KEY not in events
    assert KEY not in run.model_dump_json()


@pytest.mark.usefixtures("codex_on_path")
async def test_real_codex_refused_by_its_endpoint_fails_the_step_with_its_own_words(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    """Every request answered 401: Codex gives up (exit 1) and the step fails with its words.

    Observed with Codex CLI 0.169.0: it retries the request five times, then prints
    ``unexpected status 401 Unauthorized: <the API's message>`` and exits 1, which the step's
    error carries. The worktree is gone, nothing was merged, the key is nowhere.
    """
    repo = example_repository(tmp_path)
    base = git(repo, "rev-parse", "main").strip()
    await allow_coding(ctx, repo)
    refusal = HTTPError(
        401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
    )
    with ScriptedResponsesServer(lambda request: refusal) as server:
        steps = [_codex_step(repo, server.base_url), merge_step("build")]
        done = await _run(ctx, tmp_path, steps, approvals=1)
    assert server.agent_requests, "Codex reached its endpoint"
    assert done.status == "failed"
    build = done.steps[0]
    assert build.status == "failed"
    error = build.error or ""
    assert "codex" in error and "401 Unauthorized: Incorrect API key provided" in error, error
    assert worktrees(repo) == [str(repo)]
    assert git(repo, "rev-parse", "main").strip() == base
    await _key_nowhere(ctx, done)
