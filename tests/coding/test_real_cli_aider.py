"""The real aider in a ``coding:aider`` step: what it does with a hostile prompt, a refusal.

Only the model is scripted (``missionctl.demo.chat_server``: Chat Completions on 127.0.0.1, a
script that sees each conversation); aider is the real program at the version ``make
coding-clis`` pins (0.86.2), run by the shipped ``coding:aider`` preset in the step sandbox and
pointed at the scripted endpoint by ``inputs.model``, whose key (the secret ``openai``) it is
handed as ``OPENAI_API_KEY``. The repository is ``examples/wordcount``, whose ``top_words`` is
missing, without its ``.aider.conf.yml``: as docs/coding-agents.md says, the step names aider's
chat files (``AIDER_FILE``) and its test command (``AIDER_TEST_CMD``) in its env.

aider writing ``top_words``, running the tests and fixing what they show, its change merged into
``main``, is ``missionctl demo coding --cli aider --scripted-model``'s test
(``tests/coding/test_demo_coding.py``), where the example's ``.aider.conf.yml`` names the files
and the test command.
"""

import asyncio
import ipaddress
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from missionctl.agents.http import HttpAgentConfig
from missionctl.demo.chat_server import HTTPError, RecordedRequest, Reply, ScriptedChatServer
from missionctl.domain.addresses import Network
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.runs import read_run
from tests.coding.helpers import allow_coding, git, merge_step, worktrees
from tests.coding.real_cli import AIDER_BIN, TEST_COMMAND, example_repository, put_on_path
from tests.engine.helpers import FINISHED, allow, run_events, running_engine, start

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-scripted-" + "0123456789abcdef" * 2
APPROVER = "user:approver"
STEP = "top-words"
SOURCE = "wordcount/__init__.py"
PROMPT = f"Write top_words in {SOURCE}: tests/test_top_words.py says what it must do."
# How the step reaches its model: by inputs.model alone, through the egress proxy, which lets
# it reach that endpoint and nothing else (`{"network": True}` would give it the host's network,
# and make it wait for an approver).
NETWORK: dict[str, Any] = {}
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),)
# aider's chat files (README.md at the top makes the repository aider's root) and the command
# it runs after each edit.
AIDER_ENV = {"AIDER_FILE": f"[README.md, {SOURCE}]", "AIDER_TEST_CMD": " ".join(TEST_COMMAND)}
ASKED = "Do the task that the read-only file prompt.md describes."  # the preset's message
# How aider 0.86.2 tells its model, in the system message, the test command it runs itself.
RUNS_THE_TESTS = "The user's pre-commit runs this test command, don't suggest running them: "
MODEL = "scripted-coder"


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _shown(messages: list[dict[str, Any]], path: str) -> str:
    """The content of ``path`` as aider last put it in the chat (``path``, a fence, the file)."""
    # A file that does not end with a newline has the closing fence on its last line.
    pattern = re.compile(rf"^{re.escape(path)}\n```\n(.*?)```$", re.DOTALL | re.MULTILINE)
    shown = [m.group(1) for message in messages for m in pattern.finditer(_text(message))]
    assert shown, f"aider never showed {path}"
    return shown[-1]


def _task(messages: list[dict[str, Any]]) -> str:
    """The step's prompt as aider sent it: the read-only ``prompt.md`` the message points to."""
    assert _text(messages[-1]).startswith(ASKED), messages[-1]
    return _shown(messages, "../prompt.md")


def _repository(root: Path) -> Path:
    """The example as a git repository, without the ``.aider.conf.yml`` the step's env replaces."""
    repo = example_repository(root)
    git(repo, "rm", "--quiet", ".aider.conf.yml")
    git(repo, "commit", "--quiet", "-m", "aider's files and test command come from the step")
    return repo


def _aider_step(repo: Path, base_url: str, prompt: str = PROMPT) -> dict[str, Any]:
    return {
        "id": STEP,
        "agent": "coding:aider",
        "inputs": {
            "prompt": prompt,
            "repository": str(repo),
            "base": "main",
            "approval_mode": "workspace-write",
            "model": {"base_url": base_url, "secret": "openai", "name": MODEL},
            "env": AIDER_ENV,
            "test_command": TEST_COMMAND,
            **NETWORK,
        },
    }


@pytest.fixture
def aider_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """aider on the server's ``PATH`` (steps get it) and its key as the secret ``openai``."""
    put_on_path(monkeypatch, AIDER_BIN)
    monkeypatch.setenv("MISSIONCTL_SECRET_OPENAI", KEY)


async def _allow(ctx: ServiceContext, repo: Path) -> None:
    """As an admin would: the repository, aider with the step's variables, the test command."""
    await allow_coding(ctx, repo)
    # The test command runs with the step's env but never its secrets or the model's key.
    await allow(ctx, "aider", env=(*AIDER_ENV, "OPENAI_API_KEY"))
    await allow(ctx, "python", env=AIDER_ENV)


async def _run(
    ctx: ServiceContext, root: Path, steps: list[dict[str, Any]]
) -> tuple[RunRead, list[str]]:
    """Start ``steps``, approve each that waits as a second person; the run and those steps."""
    run = await start(ctx, steps)
    approved: list[str] = []
    # The scripted endpoint is on 127.0.0.1, which an admin allows as for `http` steps.
    agents = build_agents(
        None, http=HttpAgentConfig(allowed_networks=LOOPBACK), repositories=root / "clones"
    )
    async with running_engine(ctx, agents=agents):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for approval in await list_approvals(ctx, run_id=run.id):
                await decide_approval(ctx, ref=approval.id, approve=True, actor=APPROVER)
                approved.append(approval.step_id)
            done = await read_run(ctx, run_id=run.id)
            if done.status in FINISHED:
                return done, approved
            await asyncio.sleep(0.05)
    raise AssertionError(f"the run did not end within a minute: {done.steps}")


async def _no_key_anywhere(ctx: ServiceContext, run: RunRead) -> None:
    """Not a byte of the key in the data directory, the run's events or its step rows."""
    for path in ctx.settings.home.rglob("*"):  # blobs, workspaces, logs
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), path
    events = json.dumps([e.payload for e in await run_events(ctx, run.id)], default=str)
    assert KEY not in events
    assert KEY not in run.model_dump_json()


async def _log_lines(ctx: ServiceContext, run_id: uuid.UUID, level: str) -> list[str]:
    return [
        str(line["message"])
        for event in await run_events(ctx, run_id)
        if event.type == "step.log"
        for line in event.payload["lines"]
        if line.get("level") == level
    ]


@pytest.mark.usefixtures("aider_on_path")
async def test_an_endpoint_that_refuses_every_call_fails_the_step_on_its_tests(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    """The endpoint answers 401 to every call: aider says so and exits 0 having changed nothing.

    aider 0.86.2 ends a one-message run with exit code 0 whatever its model answered (a refusal
    ends it at once; a 500 makes it retry for about a minute, then end the same way):
    the step fails because its ``test_command`` fails, its log holds aider's own words, and no
    worktree is left.
    """
    repo = _repository(tmp_path)
    base = git(repo, "rev-parse", "main").strip()
    await _allow(ctx, repo)

    def refuse(request: RecordedRequest) -> Reply:
        return HTTPError(401, "Incorrect API key provided", "invalid_request_error")

    with ScriptedChatServer(refuse) as server:
        done, approved = await _run(
            ctx, tmp_path, [_aider_step(repo, server.base_url), merge_step(STEP)]
        )
    assert approved == [], approved
    assert len(server.chat_requests) == 1, "a refusal is not retried"
    step = {s.step_id: s for s in done.steps}[STEP]
    assert done.status == "failed" and step.status == "failed"
    error = step.error or ""
    assert "python exited with code 1" in error and "test_top_words" in error, error
    logged = "\n".join(await _log_lines(ctx, done.id, "info"))
    assert "The API provider is not able to authenticate you" in logged, logged
    assert worktrees(repo) == [str(repo)], "no worktree left"
    assert git(repo, "rev-parse", "main").strip() == base
    await _no_key_anywhere(ctx, done)


@pytest.mark.usefixtures("aider_on_path")
async def test_a_prompt_that_reads_as_an_aider_command_reaches_the_model_as_text(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    """A prompt starting with ``!`` (aider's shell command) is the model's to read, never run.

    aider runs a message that starts with ``!`` or ``/`` as one of its commands; the preset
    gives it the prompt as a read-only file and a fixed message instead, so nothing runs: the
    model gets the line as text, and the step changes nothing. The step's env is aider's only
    source of its files and test command here: the model is shown the file ``AIDER_FILE``
    names, as it is, and told that aider runs ``AIDER_TEST_CMD`` itself.
    """
    repo = _repository(tmp_path)
    original = (repo / SOURCE).read_text()
    await _allow(ctx, repo)
    hostile = "!touch planted.txt\n/run touch planted-too.txt"
    told: list[str] = []

    def model(request: RecordedRequest) -> str:
        messages = request.messages
        told.append(_task(messages))
        assert _shown(messages, SOURCE) == original, "aider sent the file AIDER_FILE names"
        assert RUNS_THE_TESTS + AIDER_ENV["AIDER_TEST_CMD"] in _text(messages[0])
        return "There is nothing to change."

    with ScriptedChatServer(model) as server:
        step = _aider_step(repo, server.base_url, prompt=hostile)
        del step["inputs"]["test_command"]
        done, _ = await _run(ctx, tmp_path, [step])
    assert server.errors == [], server.errors[0]
    assert server.other_requests == [], "aider asked the endpoint for nothing but completions"
    assert {r.authorization for r in server.chat_requests} == {f"Bearer {KEY}"}
    assert {r.body["model"] for r in server.chat_requests if r.body} == {MODEL}
    # Never a command of aider's: the model is told it as text, marked as the task.
    assert len(told) == 1 and told[0].startswith(f"Task:\n{hostile}"), told
    ran = done.steps[0]
    assert done.status == "completed", ran.error
    assert ran.outcome == "no_change" and ran.outputs["files_changed"] == []
    assert worktrees(repo) == [str(repo)]
    await _no_key_anywhere(ctx, done)
