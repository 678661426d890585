"""The real Claude Code failing four ways: each fails with its own last lines, no worktree left.

Only the model is scripted (``tests/support/anthropic_server.py``); the CLI is the real
``claude`` that ``make coding-clis`` installs, in ``full-access`` mode (it runs every tool its
model asks for), approved as an approver would. The four ways: its model refuses the request
(the CLI exits non-zero); a tool that never ends (the step is stopped near its timeout); a
program that asks a question at a terminal (standard input is ``/dev/null``: it reads
end-of-file at once instead of waiting); and writing into the workspace outside the worktree.
"""

import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from tests.coding.helpers import allow_coding, coding_agents, make_repository, worktrees
from tests.coding.real_cli import NPM_BIN, put_on_path
from tests.engine.helpers import allow, running_engine, start, wait_for_run
from tests.support.anthropic_server import (
    HTTPError,
    Message,
    RecordedRequest,
    Reply,
    ScriptedAnthropicServer,
    Text,
    ToolUse,
)

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-ant-scripted-" + "fedcba9876543210" * 2
QUIET = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
ASKS = f"{sys.executable} -c \"print(input('Overwrite everything? [y/N] '))\""


def _bash(command: str) -> ToolUse:
    return ToolUse("Bash", {"command": command, "description": "as told"})


def _then_done(first: Reply) -> Callable[[RecordedRequest], Reply]:
    """A model that replies ``first``, then ends its turn."""

    def script(request: RecordedRequest) -> Reply:
        turn = sum(m.get("role") == "assistant" for m in request.messages)
        return first if turn == 0 else Message([Text("Done.")])

    return script


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI on the server's ``PATH`` (steps get it) and its key as the secret ``anthropic``."""
    if not (NPM_BIN / "claude").exists():
        pytest.fail(f"Claude Code is not installed in {NPM_BIN}: run `make coding-clis`")
    put_on_path(monkeypatch, NPM_BIN)
    monkeypatch.setenv("MISSIONCTL_SECRET_ANTHROPIC", KEY)


async def _run_claude(
    ctx: ServiceContext, root: Path, script: Callable[[RecordedRequest], Reply], **inputs: Any
) -> tuple[RunRead, Path]:
    """A full-access ``coding:claude`` step against ``script``, approved; its run and repo."""
    repo = make_repository(root)
    await allow_coding(ctx, repo)
    await allow(ctx, "claude", sys.executable, network=True, env=("ANTHROPIC_BASE_URL",))
    with ScriptedAnthropicServer(script) as server:
        step = {
            "id": "code",
            "agent": "coding:claude",
            "retry": {"max_attempts": 1},
            "timeout_s": inputs.pop("timeout_s", 60),
            "inputs": {
                "prompt": "Fix the build.",
                "repository": str(repo),
                "approval_mode": "full-access",
                # The CLI reaches its scripted model on 127.0.0.1 through the host's network.
                "network": True,
                "env": {"ANTHROPIC_BASE_URL": server.base_url, **QUIET},
                "secret_env": {"ANTHROPIC_API_KEY": "anthropic"},
                **inputs,
            },
        }
        run = await start(ctx, [step])
        async with running_engine(ctx, agents=coding_agents(root)):
            await _approve(ctx, run.id)
            done = await wait_for_run(ctx, run.id, within_s=90)
    return done, repo


async def _approve(ctx: ServiceContext, run_id: uuid.UUID) -> None:
    for _ in range(400):
        found = [a for a in await list_approvals(ctx) if a.run_id == run_id]
        if found:
            await decide_approval(
                ctx, ref=found[0].id, approve=True, actor="user:approver",
                confirm_full_access=True, justification="the failure-mode test",
            )  # fmt: skip
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the step never waited for an approver")


def _failed(done: RunRead, repo: Path) -> str:
    """The step's error, once it is known to have failed and left no worktree."""
    step = done.steps[0]
    assert done.status == "failed", (step.status, step.error)
    assert worktrees(repo) == [str(repo)], "no worktree is left"
    assert KEY not in (step.error or "")
    return step.error or ""


@pytest.mark.usefixtures("claude")
async def test_a_cli_that_exits_non_zero_fails_with_its_last_lines(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    refusal = HTTPError(400, "scripted refusal: prompt is not allowed", "invalid_request_error")
    done, repo = await _run_claude(ctx, tmp_path, lambda request: refusal)
    error = _failed(done, repo)
    assert error.startswith("claude exited with code 1"), error
    assert "(last lines)" in error and "scripted refusal" in error, error


@pytest.mark.usefixtures("claude")
async def test_a_cli_that_hangs_is_stopped_near_the_timeout_with_its_last_lines(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    hang = Message([Text("Waiting."), _bash("echo still-here-before-the-wait; sleep 300")])
    started = time.monotonic()
    done, repo = await _run_claude(ctx, tmp_path, _then_done(hang), timeout_s=12)
    error = _failed(done, repo)
    assert time.monotonic() - started < 60
    assert "claude was still running near the step's timeout (12 s)" in error, error
    assert "--- last lines ---" in error


@pytest.mark.usefixtures("claude")
async def test_a_program_that_asks_at_a_terminal_reads_end_of_file_and_never_waits(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    asks = Message([_bash(ASKS)])
    model = _then_done(asks)
    seen: list[RecordedRequest] = []

    def script(request: RecordedRequest) -> Reply:
        seen.append(request)
        return model(request)

    started = time.monotonic()
    tests = [sys.executable, "-c", "input('Run the slow tests too? [y/N] ')"]
    done, repo = await _run_claude(ctx, tmp_path, script, test_command=tests, timeout_s=50)
    error = _failed(done, repo)
    assert time.monotonic() - started < 45, "nothing waited for an answer"
    answered = [str(r.tool_results) for r in seen if r.tool_results]
    assert any("EOFError" in text for text in answered), answered
    assert error.startswith(f"{sys.executable} exited with code 1"), error
    assert "EOFError: EOF when reading a line" in error


@pytest.mark.usefixtures("claude")
async def test_a_cli_that_writes_outside_its_worktree_fails_naming_the_paths(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    outside = Message(
        [_bash("echo planted > ../outside.txt && mkdir -p ../stash && echo x > ../stash/y")]
    )
    done, repo = await _run_claude(ctx, tmp_path, _then_done(outside))
    error = _failed(done, repo)
    assert (
        "the program wrote outside its worktree, in its workspace: outside.txt, stash, stash/y"
        in error
    ), error
    assert "--- last lines ---" in error
    assert done.steps[0].attempt == 1, "not retried"
    assert not (repo / "outside.txt").exists()
