"""The review loop of a mission, end to end, with the real Claude Code as builder, tester, reviewer.

Only the model is scripted (``tests/support/anthropic_server.py``, on 127.0.0.1, which an admin
allows here); the CLI is the real ``claude`` that ``make coding-clis`` installs, reached through
the egress proxy from the mission's model endpoint (``repository.model``). The mission's one
code task is ``examples/wordcount``'s missing ``top_words``: the builder writes it, the tester
adds a test, the reviewer (read-only) requests a change, the rework makes it with the finding in
its prompt, and the merge waits for an approver whose card shows the verdict beside the diffs.
"""

import asyncio
import dataclasses
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from missionctl.agents.coding import PRESETS
from missionctl.agents.http import HttpAgentConfig
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanDraft
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from tests.coding.helpers import FixedPlanner, allow_coding, branches, git, plan_task, worktrees
from tests.coding.real_cli import MISSING, NPM_BIN, TEST_COMMAND, example_repository, put_on_path
from tests.coding.test_real_cli_egress import LOOPBACK, QUIET
from tests.engine.helpers import allow, run_events, running_engine, wait_for_run, wait_for_step
from tests.support.anthropic_server import (
    Message,
    RecordedRequest,
    Reply,
    ScriptedAnthropicServer,
    Text,
    ToolUse,
)

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-ant-review-" + "0123456789abcdef" * 2
SOURCE = "wordcount/__init__.py"
BODY = """    if n < 1:
        raise ValueError("n must be at least 1")
    ranked = sorted(count_words(text).items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
"""
TIES_TEST = """from wordcount import top_words


def test_three_way_tie_is_alphabetical() -> None:
    assert top_words("c b a", 3) == [("a", 1), ("b", 1), ("c", 1)]
"""
FINDING = "README.md does not say how top_words breaks ties: add a line about it"
VERDICT = {"verdict": "changes_requested", "findings": [FINDING]}
TIES_NOTE = "Ties are broken alphabetically by top_words.\n"
PLAN = PlanDraft.model_validate(
    {
        "summary": "Write top_words.",
        "requirements": [{"key": "R1", "text": "The most frequent words can be listed."}],
        "tasks": [
            plan_task("scope", "product", "Say what counts as a word."),
            plan_task("top-words", "backend", "Write top_words in wordcount.", "scope"),
            plan_task("docs", "docs", "Document top_words.", "top-words"),
            plan_task("check", "qa", "Check the result.", "docs"),
        ],
    }
)


def _where(request: RecordedRequest) -> str:
    """The worktree: what the step's first tool call (``pwd``) printed."""
    for message in request.messages:
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                content = block.get("content")
                if isinstance(content, list):
                    content = "".join(str(b.get("text", "")) for b in content)
                return str(content).strip()
    raise AssertionError("no tool result yet")


def _first_prompt(request: RecordedRequest) -> str:
    """The text of the conversation's first message: the step's prompt (and the CLI's notes)."""
    content = request.messages[0].get("content") if request.messages else ""
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


class LoopModel:
    """The model of each step, told apart by the part its prompt gives it."""

    def __init__(self) -> None:
        self.prompts: dict[str, str] = {}  # role → the first request's prompt, as sent

    def __call__(self, request: RecordedRequest) -> Reply:
        prompt = _first_prompt(request)
        role = next(
            (name for marker, name in [("Your part: the tests", "tester"),
                                       ("Your part: the reviewer's findings", "rework"),
                                       ("Your part: the review\n", "reviewer")]
             if marker in prompt),
            "builder",
        )  # fmt: skip
        self.prompts.setdefault(role, prompt)
        turn = sum(m.get("role") == "assistant" for m in request.messages)
        if role == "reviewer":
            block = "```json\n" + json.dumps(VERDICT) + "\n```"
            return Message([Text(f"The code and its tests are right.\n\n{block}")])
        if turn == 0:
            return Message([ToolUse("Bash", {"command": "pwd", "description": "where"})])
        return self._work(role, turn, _where(request))

    def _work(self, role: str, turn: int, here: str) -> Reply:
        steps: dict[str, list[ToolUse]] = {
            "builder": [
                ToolUse("Read", {"file_path": f"{here}/{SOURCE}"}),
                ToolUse("Edit", {"file_path": f"{here}/{SOURCE}", "old_string": MISSING,
                                 "new_string": BODY}),
            ],
            "tester": [ToolUse("Write", {"file_path": f"{here}/tests/test_ties.py",
                                         "content": TIES_TEST})],
            "rework": [ToolUse("Write", {"file_path": f"{here}/TIES.md", "content": TIES_NOTE})],
        }  # fmt: skip
        todo = steps[role]
        return Message([todo[turn - 1]]) if turn <= len(todo) else Message([Text("Done.")])


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI on the server's ``PATH`` (steps get it) and its key as the secret ``anthropic``."""
    if not (NPM_BIN / "claude").exists():
        pytest.fail(f"Claude Code is not installed in {NPM_BIN}: run `make coding-clis`")
    put_on_path(monkeypatch, NPM_BIN)
    monkeypatch.setenv("MISSIONCTL_SECRET_ANTHROPIC", KEY)


def _agents(root: Path) -> Any:
    """Every agent; Claude Code told to reach nothing but its model (``QUIET``)."""
    shipped = PRESETS["claude"]
    assert shipped.model is not None
    quiet = dataclasses.replace(shipped.model, env={**shipped.model.env, **QUIET})
    return build_agents(
        None,
        http=HttpAgentConfig(allowed_networks=LOOPBACK),
        repositories=root / "clones",
        coding_presets={"claude": dataclasses.replace(shipped, model=quiet)},
    )


async def _start(ctx: ServiceContext, repo: Path, base_url: str) -> uuid.UUID:
    repository = {
        "source": str(repo), "agent": "coding:claude", "review": True,
        "test_command": TEST_COMMAND, "model": {"base_url": base_url, "secret": "anthropic"},
    }  # fmt: skip
    data = MissionCreate.model_validate({"goal": "Write top_words", "repository": repository})
    mission = await create_mission(ctx, data=data, actor="user:test")
    await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=FixedPlanner(PLAN))
    return (await run_mission(ctx, mission_id=mission.id, actor="user:test")).id


@pytest.mark.usefixtures("claude")
async def test_a_requested_change_is_reworked_and_the_merge_card_shows_the_verdict(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = example_repository(tmp_path)
    await allow_coding(ctx, repo)
    variables = ("ANTHROPIC_API_KEY", *QUIET)
    await allow(ctx, "claude", env=variables)
    await allow(ctx, "python", env=variables)
    model = LoopModel()
    with ScriptedAnthropicServer(model) as server:
        run_id = await _start(ctx, repo, server.base_url)
        async with running_engine(ctx, agents=_agents(tmp_path)):
            await wait_for_step(ctx, run_id, "top-words-merge", "awaiting_approval", within_s=150)
            [card] = [a for a in await list_approvals(ctx) if a.run_id == run_id]
            await decide_approval(ctx, ref=card.id, approve=True, actor="user:approver")
            done = await wait_for_run(ctx, run_id, within_s=60)
    steps = {s.step_id: s for s in done.steps}
    assert done.status == "completed", {k: s.error for k, s in steps.items() if s.error}
    assert set(model.prompts) == {"builder", "tester", "reviewer", "rework"}
    # The reviewer read the chain's diff; the rework's prompt held its finding.
    assert "## The change to review" in model.prompts["reviewer"]
    assert "tests/test_ties.py" in model.prompts["reviewer"]
    assert FINDING in model.prompts["rework"]
    assert card.inputs["step"] == "top-words-rework"
    assert card.review is not None and card.review.agent == "coding:claude"
    assert (card.review.verdict, card.review.findings) == ("changes_requested", [FINDING])
    assert card.review.reworked
    assert [d.step_id for d in card.diffs] == ["top-words", "top-words-test", "top-words-rework"]
    assert "+    ranked = sorted(" in card.diffs[0].text
    assert steps["top-words-review"].outputs["approval_mode"] == "read-only"
    for name in ("top-words", "top-words-test", "top-words-rework"):
        assert steps[name].outputs["tests_exit_code"] == 0, name
    assert steps["top-words-merge"].outputs["merged"] is True
    assert MISSING not in (repo / SOURCE).read_text()
    assert (repo / "tests" / "test_ties.py").read_text() == TIES_TEST
    assert (repo / "TIES.md").read_text() == TIES_NOTE
    assert branches(repo) == [] and worktrees(repo) == [str(repo)]
    assert git(repo, "status", "--porcelain") == ""
    tests = await asyncio.to_thread(
        subprocess.run, [sys.executable, *TEST_COMMAND[1:]], cwd=repo, capture_output=True,
        text=True,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout
    assert "4 passed" in tests.stdout or "6 passed" in tests.stdout, tests.stdout
    assert steps["top-words"].outcome == "built"
    await _key_nowhere(ctx, done)


async def _key_nowhere(ctx: ServiceContext, run: RunRead) -> None:
    """No byte of the key in the data directory, the run's events or its step rows."""
    for path in ctx.settings.home.rglob("*"):  # blobs, workspaces, logs
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), path
    events = json.dumps([e.payload for e in await run_events(ctx, run.id)], default=str)
    assert KEY not in events
    assert KEY not in run.model_dump_json()
