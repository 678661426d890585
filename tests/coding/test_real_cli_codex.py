"""The real Codex CLI, pinned and installed by make, writes ``top_words`` for a scripted model.

A ``coding:codex`` step names its model endpoint (``inputs.model``): the shipped preset points
``codex exec`` at it as a custom model provider speaking the Responses API, hands the key over
as ``OPENAI_API_KEY``; Codex keeps its state in ``$HOME/.codex``, in the step's workspace. The
model is :class:`ScriptedResponsesServer` on 127.0.0.1; everything else is real: Codex runs in
the step sandbox, its own sandbox (``workspace-write``) inside it, on a git worktree of the
example repository (``examples/wordcount``, whose ``top_words`` is missing), runs the tools the
model asks for and sends their output back.
"""

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.approvals import decide_approval, list_approvals
from missionctl.services.artifacts import read_artifact_content, read_artifacts
from missionctl.settings import Settings
from tests.coding.helpers import allow_coding, coding_agents, git, merge_step, worktrees
from tests.coding.real_cli import (
    MISSING,
    NPM_BIN,
    TEST_COMMAND,
    TOP_WORDS,
    example_repository,
    put_on_path,
)
from tests.engine.helpers import allow, run_events, running_engine, start, wait_for_run
from tests.support.responses_server import (
    FunctionCall,
    HTTPError,
    RecordedRequest,
    Reply,
    Response,
    ScriptedResponsesServer,
    Text,
)

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-proj-scripted-" + "0123456789abcdef" * 2
SECRET = "openai"
APPROVER = "user:approver"
MODEL = "scripted-codex"
OUTSIDE_TMP = "/var/tmp"
EXITED_0 = re.compile(r"^(Process exited with code|Exit code:) 0$", re.MULTILINE)
"""How Codex's shell tool reports a command that succeeded (a command it ran, or a patch it
applied itself), in the output it sends back."""

# What the model writes in place of the missing line: the body of a correct top_words.
BODY = TOP_WORDS.split('\n    """\n', 1)[1]
PATCH = (
    "*** Begin Patch\n*** Update File: wordcount/__init__.py\n@@\n"
    + "".join(f"-{line}\n" for line in MISSING.splitlines())
    + "".join(f"+{line}\n" for line in BODY.splitlines())
    + "*** End Patch\n"
)


class TopWordsModel:
    """The scripted model: four turns, each checking what the CLI sent back from the last.

    1. read ``wordcount/__init__.py`` (``exec_command``, Codex's shell tool);
    2. seeing the missing ``top_words``, edit it with ``apply_patch`` (through the shell tool,
       which Codex intercepts and applies itself);
    3. seeing the patch applied, run the tests (the shell tool again);
    4. seeing them pass, end the turn with a message.

    Each command must have exited 0 (Codex's shell tool reports the exit code with the output).

    A result that is not what the turn expects ends the conversation early and is kept in
    ``problems``: the test then fails naming it.
    """

    def __init__(self) -> None:
        """No turn taken yet."""
        self.calls: list[FunctionCall] = []  # what each turn asked for, in order
        self.problems: list[str] = []

    def __call__(self, request: RecordedRequest) -> Reply:
        outputs = request.outputs
        turn = len(outputs)
        if turn != len(self.calls):
            return self._stop(f"turn {turn}: expected {len(self.calls)} tool outputs")
        if turn == 0:
            return self._call("Reading the package.", "cat wordcount/__init__.py")
        last = outputs.get(self.calls[-1].call_id, "")
        if not EXITED_0.search(last):
            return self._stop(f"turn {turn}: the command failed: {last!r}")
        if turn == 1:
            if MISSING.strip() not in last:
                return self._stop(f"the read did not show the missing line: {last!r}")
            return self._call("Writing top_words.", f"apply_patch <<'PATCH'\n{PATCH}PATCH\n")
        if turn == 2:
            if "wordcount/__init__.py" not in last or "Success" not in last:
                return self._stop(f"the patch was not applied: {last!r}")
            return self._call("Running the tests.", " ".join(TEST_COMMAND))
        if turn == 3:
            if " passed" not in last or "failed" in last:
                return self._stop(f"the tests did not pass: {last!r}")
            return Response([Text("top_words is written and the tests pass.")])
        return self._stop(f"turn {turn}: nothing left to do")

    def _call(self, text: str, command: str) -> Response:
        call = FunctionCall("exec_command", {"cmd": command, "yield_time_ms": 30000})
        self.calls.append(call)
        return Response([Text(text), call])

    def _stop(self, problem: str) -> Response:
        self.problems.append(problem)
        return Response([Text(f"Stopping: {problem}")])


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


def _base_tests_pass(repo: Path) -> str:
    """Run the example's tests on the base branch as checked out; returns their summary."""
    command = [sys.executable, *TEST_COMMAND[1:]]
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.usefixtures("codex_on_path")
async def test_real_codex_writes_top_words_the_tests_pass_and_the_merge_lands(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    """Codex reads, patches and tests through its shell tool; the gated merge brings it in.

    Observed with Codex CLI 0.169.0: for a model it has no metadata for, it offers
    ``exec_command`` (a shell) and no separate edit tool; an ``apply_patch`` heredoc sent
    through the shell is applied by Codex itself ("Success. Updated the following files").
    """
    repo = example_repository(tmp_path)
    base = git(repo, "rev-parse", "main").strip()
    await allow_coding(ctx, repo)
    model = TopWordsModel()
    with ScriptedResponsesServer(model) as server:
        steps = [_codex_step(repo, server.base_url), merge_step("build")]
        done = await _run(ctx, tmp_path, steps, approvals=1)  # the merge only
    assert model.problems == [], model.problems
    turns = server.agent_requests
    assert turns == server.requests, "Codex asked its endpoint for nothing but model turns"
    assert len(turns) == 4, [(r.method, r.path) for r in server.requests]
    assert "exec_command" in turns[0].tools, turns[0].tools
    assert {r.headers.get("authorization") for r in turns} == {f"Bearer {KEY}"}
    assert {r.body.get("model") for r in turns if r.body} == {MODEL}
    build, merge = done.steps
    assert done.status == "completed", (build.error, merge.error)
    assert build.outputs["exit_code"] == 0
    assert build.outputs["tests_exit_code"] == 0
    assert build.outputs["files_changed"] == ["wordcount/__init__.py"]
    assert build.outcome == "built"
    diff = await _artifact(ctx, done, "build.diff")
    assert "-" + MISSING in diff and "+    return ranked[:n]\n" in diff, diff
    changes = json.loads(await _artifact(ctx, done, "build-changes.json"))
    assert [f["path"] for f in changes["files"]] == ["wordcount/__init__.py"]
    assert git(repo, "rev-parse", "main").strip() != base, "merged into main"
    assert "return ranked[:n]" in (repo / "wordcount" / "__init__.py").read_text()
    assert " passed" in _base_tests_pass(repo)
    assert worktrees(repo) == [str(repo)]
    await _key_nowhere(ctx, done)


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


async def _artifact(ctx: ServiceContext, run: RunRead, name: str) -> str:
    """The text of the run's artifact ``name``."""
    artifacts = {a.name: a for a in await read_artifacts(ctx, run_id=run.id)}
    _, content = await read_artifact_content(ctx, artifact_id=artifacts[name].id)
    return content.decode()
