"""``missionctl demo coding``: the one command a newcomer runs to see a coding mission work.

Run through the CLI entry point in a fresh data directory under ``/var/tmp`` (coding CLIs
refuse some homes below ``/tmp``). The CLI is the real Claude Code, Codex CLI or aider that
``make coding-clis`` installs; only its model is scripted, by the product's own stand-in for
that CLI's protocol (``missionctl.demo.scripted_models``), which the demo starts and names as
scripted. The demo stops where a person must decide: the merge. The test then decides it as
the lowest role that may (an approver, from the command line), lets an engine run the merge,
and runs the example's tests on the base branch.

The Codex and aider runs are also those CLIs' end-to-end tests with a model that writes code
(``test_real_cli_codex.py`` and ``test_real_cli_aider.py`` keep their failure cases): what
they send the endpoint, the key handed over and found nowhere, the outcome from the tests.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.demo import coding_model, scripted_models
from missionctl.demo.anthropic_server import Message, RecordedRequest, Reply, Text, ToolUse
from missionctl.demo.chat_server import ScriptedChatServer
from missionctl.demo.coding import DEMO_ACTOR, SCRIPTED_KEY
from missionctl.demo.coding_model import SCRIPT, DemoCodingModel
from missionctl.demo.responses_server import ScriptedResponsesServer
from missionctl.demo.scripted_models import StandIn
from missionctl.domain.coding import MERGE_AGENT
from missionctl.domain.review import ReviewVerdict, parse_verdict
from missionctl.planning.review_loop import PROMPTS
from missionctl.schemas.governance import ApprovalRead
from missionctl.schemas.runs import RunRead
from missionctl.services import open_context
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.artifacts import read_artifact_content, read_artifacts
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.runs import read_run
from missionctl.settings import Settings
from tests.coding.helpers import branches, git, worktrees
from tests.coding.real_cli import MISSING, TEST_COMMAND
from tests.engine.helpers import run_events, running_engine, wait_for_run

# Their subject is the real CLI, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

Invoke = Callable[..., Result]
OUTSIDE_TMP = "/var/tmp"


@pytest.fixture
def home() -> Iterator[Path]:
    """A data directory that does not exist yet, outside the system's temporary directory."""
    parent = Path(tempfile.mkdtemp(prefix="missionctl-demo-", dir=OUTSIDE_TMP))
    yield parent / "home"
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def cli(settings: Settings, home: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``missionctl`` in-process on the test's database, in ``home``, with a quick engine."""
    monkeypatch.setenv("MISSIONCTL_HOME", str(home))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", settings.database.url.get_secret_value())
    monkeypatch.setenv("MISSIONCTL_ENGINE_POLL_S", "0.05")
    monkeypatch.setenv("MISSIONCTL_ENGINE_HEARTBEAT_S", "0.2")
    monkeypatch.delenv("MISSIONCTL_SECRET_ANTHROPIC", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _demo_run(settings: Settings) -> RunRead:
    """The one run the demo started (the run its pending approvals belong to), with its steps."""

    async def go() -> RunRead:
        async with open_context(settings) as ctx:
            (run_id,) = {approval.run_id for approval in await list_approvals(ctx)}
            return await read_run(ctx, run_id=run_id)

    return asyncio.run(go())


def _diff(settings: Settings, run: RunRead, step_id: str) -> str:
    return _artifact(settings, run, step_id + ".diff")


def _artifact(settings: Settings, run: RunRead, name: str) -> str:
    """The text of the run's artifact ``name``."""

    async def go() -> str:
        async with open_context(settings) as ctx:
            artifacts = {a.name: a for a in await read_artifacts(ctx, run_id=run.id)}
            _, content = await read_artifact_content(ctx, artifact_id=artifacts[name].id)
            return content.decode()

    return asyncio.run(go())


def _pending(settings: Settings, run: RunRead) -> dict[str, str]:
    """The run's pending approvals: approval id by step id."""

    async def go() -> dict[str, str]:
        async with open_context(settings) as ctx:
            return {a.step_id: str(a.id) for a in await list_approvals(ctx, run_id=run.id)}

    return asyncio.run(go())


def _finish(settings: Settings, run: RunRead) -> RunRead:
    """Run an engine (the server's would) until the approved run ends."""

    async def go() -> RunRead:
        async with (
            open_context(settings) as ctx,
            open_runtime(settings) as runtime,
            running_engine(ctx, agents=runtime.agents),
        ):
            return await wait_for_run(ctx, run.id, within_s=60)

    return asyncio.run(go())


def _demo_actions(settings: Settings) -> list[str]:
    """The types of the events the demo recorded as its own."""

    async def go() -> list[str]:
        async with open_context(settings) as ctx:
            page = await read_event_page(ctx, limit=1000)
        return [event.type for event in page if event.actor == DEMO_ACTOR]

    return asyncio.run(go())


def test_the_demo_builds_top_words_and_the_approved_merge_passes_on_main(
    cli: Invoke, settings: Settings, home: Path
) -> None:
    path_before = os.environ.get("PATH")
    shown = cli("demo", "coding", "--scripted-model")
    assert shown.exit_code == 0, shown.output
    assert os.environ.get("PATH") == path_before, "the demo put the environment back"
    output = " ".join(shown.output.split())
    assert "model: SCRIPTED" in output and "not a real model" in output
    assert "the model was scripted" in output
    assert "run paused, waiting for approvers: 1 task built" in output
    here = settings.model_copy(update={"home": home})
    run = _demo_run(here)
    coding = [s for s in run.steps if s.agent == "coding:claude"]
    assert [s.outcome for s in coding].count("built") == 1, [(s.step_id, s.outcome) for s in coding]
    assert {s.outcome for s in coding} <= {"built", "no_change"}
    (built,) = [s for s in coding if s.outcome == "built"]
    diff = _diff(here, run, built.step_id)
    assert "top_words" in diff and "-" + MISSING in diff, diff
    assert "+    return ranked[:n]\n" in diff, diff
    merges = {s.step_id: s.status.value for s in run.steps if s.agent == MERGE_AGENT}
    assert set(merges.values()) == {"awaiting_approval"}, merges
    pending = _pending(here, run)
    assert set(pending) == set(merges)
    for approval in pending.values():
        assert f"missionctl approve {approval}" in output
    repo = Path(str(built.outputs["repository"]))
    assert repo.is_relative_to(home)
    assert "NotImplementedError" in (repo / "wordcount" / "__init__.py").read_text()
    # The lowest role that may decide approves each merge, from the command line.
    assert cli("user", "add", "carol", "--role", "approver").exit_code == 0
    for approval in pending.values():
        decided = cli("approve", approval, "--as", "carol")
        assert decided.exit_code == 0, decided.output
    done = _finish(here, run)
    assert done.status.value == "completed", [(s.step_id, s.status, s.error) for s in done.steps]
    assert {s.outcome for s in done.steps if s.agent == MERGE_AGENT} == {"merged"}
    assert git(repo, "status", "--porcelain") == ""
    tests = subprocess.run(
        [sys.executable, *TEST_COMMAND[1:]], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout
    assert {"agent.updated", "mission.created"} <= set(_demo_actions(here))


def test_an_operator_may_not_approve_the_merge_and_nothing_moves(
    cli: Invoke, settings: Settings, home: Path
) -> None:
    assert cli("demo", "coding", "--scripted-model").exit_code == 0
    here = settings.model_copy(update={"home": home})
    run = _demo_run(here)
    pending = _pending(here, run)
    assert cli("user", "add", "olga", "--role", "operator").exit_code == 0
    for approval in pending.values():
        refused = cli("approve", approval, "--as", "olga")
        assert refused.exit_code != 0
        assert "approvals:decide" in refused.output or "approver" in refused.output, refused.output
    assert _pending(here, run) == pending


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ([], "--scripted-model"),
        (["--scripted-model", "--model-endpoint", "https://api.anthropic.com"], "not both"),
        (
            ["--model-endpoint", "https://api.anthropic.com", "--model-secret", "anthropic"],
            "MISSIONCTL_SECRET_ANTHROPIC",
        ),
        (
            ["--model-endpoint", "http://me:pw@llm.example.com", "--model-secret", "x"],
            "--model-endpoint",
        ),
        (["--scripted-model", "--repository", "/nonexistent/repo"], "--repository"),
        (["--cli", "aider"], "https://api.openai.com/v1"),
    ],
)
def test_bad_options_exit_2_naming_the_fix_and_write_nothing(
    cli: Invoke, home: Path, args: list[str], named: str
) -> None:
    refused = cli("demo", "coding", *args)
    assert refused.exit_code == 2, refused.output
    assert named in " ".join(refused.output.split())
    assert not home.exists(), "nothing was written"


def test_a_key_given_as_the_secret_name_is_refused_without_being_shown(
    cli: Invoke, home: Path
) -> None:
    key = "sk-ant-api03-" + "Zx9" * 12
    endpoint = ["--model-endpoint", "https://api.anthropic.com"]
    refused = cli("demo", "coding", *endpoint, "--model-secret", key)
    assert refused.exit_code == 2
    assert "--model-secret" in refused.output and "looks like a key" in refused.output
    assert key not in refused.output
    assert not home.exists()


def _request(*messages: dict[str, object]) -> RecordedRequest:
    body = {"messages": list(messages), "tools": [{"name": "Bash"}]}
    return RecordedRequest("POST", "/v1/messages", {}, body)


def _asked(reply: object) -> ToolUse | None:
    assert isinstance(reply, Message)
    return next((b for b in reply.content if isinstance(b, ToolUse)), None)


def _after_locate(worktree: str, *turns: tuple[str, str]) -> RecordedRequest:
    """A conversation after ``locate`` printed ``worktree``, then ``turns`` (tool, result)."""
    messages: list[dict[str, object]] = [{"role": "user", "content": "the task"}]
    for result in [worktree, *(r for _, r in turns)]:
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "…"}]})
        block = {"type": "tool_result", "tool_use_id": "t", "content": result}
        messages.append({"role": "user", "content": [block]})
    return _request(*messages)


def test_the_scripted_model_lets_one_code_task_write_and_the_others_look() -> None:
    model = DemoCodingModel()
    first = _asked(model(_request({"role": "user", "content": "the task"})))
    assert first is not None and first.input["command"] == "pwd"
    writer = _asked(model(_after_locate("/w/run/api/repo")))
    other = _asked(model(_after_locate("/w/run/cli/repo")))
    assert writer is not None and other is not None
    assert writer.input["file_path"] == "/w/run/api/repo/wordcount/__init__.py"
    assert other.input["file_path"] == "/w/run/cli/repo/wordcount/__init__.py"
    read = ("Read", '    raise NotImplementedError("top_words is not written yet")\n')
    edit = _asked(model(_after_locate("/w/run/api/repo", read)))
    assert edit is not None and edit.name == "Edit"
    assert "ranked[:n]" in edit.input["new_string"]
    looked = model(_after_locate("/w/run/cli/repo", read))
    assert _asked(looked) is None, "the other task asks for nothing more: it changes nothing"
    retried = _asked(model(_after_locate("/w/run/api/repo", read)))
    assert retried is not None and retried.name == "Edit", "a retried writer writes again"
    refused = ("Bash", "This command requires approval")
    updated = ("Edit", "The file /w/run/api/repo/wordcount/__init__.py has been updated")
    last = model(_after_locate("/w/run/api/repo", read, updated, refused))
    assert isinstance(last, Message) and _asked(last) is None
    (said,) = [b.text for b in last.content if isinstance(b, Text)]
    assert "did not run here (This command requires approval)" in said
    assert model.problems == []
    lost = model(_after_locate("/w/run/api/repo", ("Read", "something else entirely")))
    assert _asked(lost) is None and len(model.problems) == 1
    assert json.dumps(model.problems)  # plain text, to be printed


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[RecordedRequest]:
    """What the demo's scripted model was sent: the shipped model, which also keeps each request.

    The demo builds its model when it runs; it gets this subclass, which plays the same script.
    """
    received: list[RecordedRequest] = []

    class Keeping(DemoCodingModel):
        def __call__(self, request: RecordedRequest) -> Reply:
            received.append(request)
            return super().__call__(request)

    monkeypatch.setattr(coding_model, "DemoCodingModel", Keeping)
    return received


def _by_part(requests: list[RecordedRequest]) -> dict[str, list[str]]:
    """The first prompt of each conversation the real CLI opened, by the part it names."""
    prompts: dict[str, list[str]] = {}
    for request in requests:
        if sum(m.get("role") == "assistant" for m in request.messages) == 0:
            prompt = coding_model._prompt(request.messages)
            prompts.setdefault(coding_model._part(request.messages), []).append(prompt)
    return prompts


def test_with_review_the_cli_builds_tests_reviews_and_reworks_before_the_merge(
    cli: Invoke, settings: Settings, home: Path, heard: list[RecordedRequest]
) -> None:
    shown = cli("demo", "coding", "--scripted-model", "--review")
    assert shown.exit_code == 0, shown.output
    output = " ".join(shown.output.split())
    assert "requests one change as the reviewer" in output
    here = settings.model_copy(update={"home": home})
    run = _demo_run(here)
    steps = {s.step_id: s for s in run.steps}
    chain = ("top-words", "top-words-test", "top-words-review", "top-words-rework")
    assert {name: steps[name].status.value for name in chain} == dict.fromkeys(chain, "succeeded")
    # Each of the four ran the real CLI: it opened a conversation with the model, by its part.
    prompts = _by_part(heard)
    assert {part: len(seen) for part, seen in prompts.items()} == {
        "builder": 1, "tester": 1, "reviewer": 1, "rework": 1,
    }  # fmt: skip
    (finding,) = SCRIPT.review.findings
    review = steps["top-words-review"].outputs
    assert (review["verdict"], review["findings"]) == ("changes_requested", [finding])
    assert "+    ranked = sorted(" in prompts["reviewer"][0], "the reviewer was shown the change"
    assert finding in prompts["rework"][0], "the rework was told the finding"
    assert "test_an_empty_text_has_no_top_words" in _diff(here, run, "top-words-test")
    assert "case-insensitively" in _diff(here, run, "top-words-rework")
    assert steps["top-words-merge"].status.value == "awaiting_approval"
    [card] = [a for a in asyncio.run(_approvals(here)) if a.run_id == run.id]
    assert card.step_id == "top-words-merge" and card.inputs["step"] == "top-words-rework"
    assert card.review is not None
    assert (card.review.verdict, card.review.findings) == ("changes_requested", [finding])
    assert card.review.reworked
    assert [d.step_id for d in card.diffs] == ["top-words", "top-words-test", "top-words-rework"]
    # An approver merges it: main holds the code, the tester's test and the rework.
    assert cli("user", "add", "carol", "--role", "approver").exit_code == 0
    assert cli("approve", str(card.id), "--as", "carol").exit_code == 0
    done = _finish(here, run)
    assert done.status.value == "completed", [(s.step_id, s.status, s.error) for s in done.steps]
    repo = Path(str(steps["top-words"].outputs["repository"]))
    assert "case-insensitively" in (repo / "wordcount" / "__init__.py").read_text()
    tests = subprocess.run(
        [sys.executable, *TEST_COMMAND[1:]], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert tests.returncode == 0 and "6 passed" in tests.stdout, tests.stdout + tests.stderr


async def _approvals(settings: Settings) -> list[ApprovalRead]:
    async with open_context(settings) as ctx:
        return await list_approvals(ctx)


def test_the_scripted_reviewer_requests_the_change_only_when_shown_the_written_code() -> None:
    model = DemoCodingModel()
    part = PROMPTS.reviewer
    shown = f"the task\n\n{part}\n\n## The change to review\n{SCRIPT.review.changes_when}"
    asked = model(_request({"role": "user", "content": shown}))
    assert _asked(asked) is None, "the reviewer changes nothing"
    assert isinstance(asked, Message)
    (said,) = [b.text for b in asked.content if isinstance(b, Text)]
    assert parse_verdict(said).verdict == "changes_requested"
    empty = f"the task\n\n{part}\n\n## The change to review\nThe branch changes nothing."
    approved = model(_request({"role": "user", "content": empty}))
    assert isinstance(approved, Message)
    (said,) = [b.text for b in approved.content if isinstance(b, Text)]
    assert parse_verdict(said) == ReviewVerdict("approve", ())


def _said(result: Result) -> str:
    """What the command printed, on one line (rich's panels and line breaks taken out)."""
    return " ".join(result.output.replace("│", " ").split())


def test_an_unknown_cli_is_refused_naming_the_choices(cli: Invoke, home: Path) -> None:
    refused = cli("demo", "coding", "--scripted-model", "--cli", "gemini")
    assert refused.exit_code == 2, refused.output
    said = _said(refused)
    assert "--cli" in said and "gemini" in said
    assert all(f"'{name}'" in said for name in ("claude", "codex", "aider")), said
    assert not home.exists(), "nothing was written"


@pytest.mark.parametrize("name", ["codex", "aider"])
def test_the_scripted_review_loop_is_refused_with_codex_and_aider_naming_what_works(
    cli: Invoke, home: Path, name: str
) -> None:
    refused = cli("demo", "coding", "--scripted-model", "--review", "--cli", name)
    assert refused.exit_code == 2, refused.output
    said = _said(refused)
    assert "plays the review loop with Claude Code only" in said, said
    assert "--cli claude --scripted-model --review" in said
    assert f"--cli {name} --review with a real model" in said
    assert not home.exists(), "nothing was written"


def test_codex_is_refused_a_data_directory_under_tmp(cli: Invoke) -> None:
    under_tmp = Path("/tmp") / f"missionctl-demo-{uuid.uuid4().hex}"
    try:
        refused = cli(
            "demo", "coding", "--cli", "codex", "--scripted-model", "--home", str(under_tmp)
        )
        assert refused.exit_code == 2, refused.output
        assert "outside /tmp" in _said(refused)
        assert not (under_tmp / "demo-repositories").exists(), "no repository was copied"
    finally:
        shutil.rmtree(under_tmp, ignore_errors=True)


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> list[StandIn]:
    """Each scripted model the demo starts: the shipped ones, also kept here to be looked at."""
    made: list[StandIn] = []
    shipped = scripted_models.stand_in

    def keeping(name: str) -> StandIn:
        made.append(shipped(name))
        return made[-1]

    monkeypatch.setattr(scripted_models, "stand_in", keeping)
    return made


@dataclass(frozen=True)
class _Built:
    """What a scripted demo left: its run, its one built step, its stand-in, the others."""

    settings: Settings
    run: RunRead
    step_id: str
    stand_in: StandIn
    others: int  # coding steps that changed nothing


def _built_by(
    name: str, cli: Invoke, settings: Settings, home: Path, made: list[StandIn]
) -> _Built:
    """Run the demo with CLI ``name`` and the scripted model; check the built step it stops on.

    The run pauses at the gated merge; one coding step is ``built`` (the CLI ran with exit
    code 0, then the test command passed), its diff and changes show top_words; the endpoint
    saw the placeholder key and the stand-in's model on every request.
    """
    shown = cli("demo", "coding", "--cli", name, "--scripted-model")
    assert shown.exit_code == 0, shown.output
    output = _said(shown)
    assert "model: SCRIPTED" in output and "not a real model" in output
    assert "the model was scripted" in output and f"--cli {name} --model-endpoint" in output
    assert "run paused, waiting for approvers: 1 task built" in output
    (scripted,) = made
    assert scripted.problems == [] and "the script stopped early" not in output
    here = settings.model_copy(update={"home": home})
    run = _demo_run(here)
    coding = [s for s in run.steps if s.agent == f"coding:{name}"]
    assert {s.outcome for s in coding} <= {"built", "no_change"}
    (built,) = [s for s in coding if s.outcome == "built"]
    assert (built.outputs["exit_code"], built.outputs["tests_exit_code"]) == (0, 0)
    assert built.outputs["files_changed"] == ["wordcount/__init__.py"]
    diff = _diff(here, run, built.step_id)
    assert "-" + MISSING in diff and "+    return ranked[:n]\n" in diff, diff
    changes = json.loads(_artifact(here, run, f"{built.step_id}-changes.json"))
    assert changes["files"] == [
        {"path": "wordcount/__init__.py", "status": "M", "insertions": 4, "deletions": 1}
    ], changes
    merges = {s.status.value for s in run.steps if s.agent == MERGE_AGENT}
    assert merges == {"awaiting_approval"}, merges
    requests = scripted.server.requests
    assert {r.headers.get("authorization") for r in requests} == {f"Bearer {SCRIPTED_KEY}"}
    assert {(r.body or {}).get("model") for r in requests} == {scripted.model}
    return _Built(here, run, built.step_id, scripted, len(coding) - 1)


def _merged_and_clean(cli: Invoke, built: _Built) -> None:
    """An approver merges; main passes its tests; no worktree, branch or key byte is left."""
    here, run = built.settings, built.run
    assert cli("user", "add", "carol", "--role", "approver").exit_code == 0
    for approval in _pending(here, run).values():
        assert cli("approve", approval, "--as", "carol").exit_code == 0
    done = _finish(here, run)
    assert done.status.value == "completed", [(s.step_id, s.status, s.error) for s in done.steps]
    step = {s.step_id: s for s in done.steps}[built.step_id]
    repo = Path(str(step.outputs["repository"]))
    assert "return ranked[:n]" in (repo / "wordcount" / "__init__.py").read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert worktrees(repo) == [str(repo)] and branches(repo) == []
    tests = subprocess.run(
        [sys.executable, *TEST_COMMAND[1:]], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert tests.returncode == 0 and "5 passed" in tests.stdout, tests.stdout + tests.stderr
    for path in here.home.rglob("*"):  # blobs, workspaces, logs
        if path.is_file() and not path.is_symlink():
            assert SCRIPTED_KEY.encode() not in path.read_bytes(), path
    assert SCRIPTED_KEY not in json.dumps([e.payload for e in _events(here, run)], default=str)
    assert SCRIPTED_KEY not in done.model_dump_json()


def _events(settings: Settings, run: RunRead) -> list[Any]:
    async def go() -> list[Any]:
        async with open_context(settings) as ctx:
            return list(await run_events(ctx, run.id))

    return asyncio.run(go())


def test_the_demo_with_codex_builds_top_words_through_its_shell_tool_and_the_merge_lands(
    cli: Invoke, settings: Settings, home: Path, stand_ins: list[StandIn]
) -> None:
    """Codex reads, patches and tests through its shell tool (``exec_command``).

    Observed with Codex CLI 0.169.0: for a model it has no metadata for, it offers
    ``exec_command`` (a shell) and no separate edit tool; an ``apply_patch`` heredoc sent
    through the shell is applied by Codex itself. Its home is in the step's workspace, under
    the data directory (outside /tmp).
    """
    built = _built_by("codex", cli, settings, home, stand_ins)
    server = built.stand_in.server
    assert isinstance(server, ScriptedResponsesServer)
    turns = server.agent_requests
    assert turns == server.requests, "Codex asked its endpoint for nothing but model turns"
    assert len(turns) == 4 + 2 * built.others, [(r.method, r.path) for r in server.requests]
    assert "exec_command" in turns[0].tools, turns[0].tools
    _merged_and_clean(cli, built)


def test_the_demo_with_aider_edits_runs_the_tests_fixes_and_the_merge_lands(
    cli: Invoke, settings: Settings, home: Path, stand_ins: list[StandIn]
) -> None:
    """aider edits, runs the tests (the example's .aider.conf.yml), is shown one fail, fixes it.

    aider runs unattended: the prompt is its read-only ``prompt.md``, the message the preset's
    fixed sentence. It downloads a price table for a model it does not know: the egress proxy
    refuses it, and the step's log says so.
    """
    built = _built_by("aider", cli, settings, home, stand_ins)
    server = built.stand_in.server
    assert isinstance(server, ScriptedChatServer)
    assert server.errors == [], server.errors[0]
    assert server.other_requests == [], "aider asked the endpoint for nothing but completions"
    asked = server.chat_requests
    assert len(asked) == 2 + built.others, "two turns for the writer: the edit and the fix"
    first = asked[0].messages
    assert str(first[-1]["content"]).startswith("Do the task that the read-only file prompt.md")
    assert f"Task `{built.step_id}`" in json.dumps(first), "the prompt reached the model"
    assert "test_n_below_one_is_refused" in json.dumps(asked[1].messages), "aider ran the tests"
    warnings = [
        str(line["message"])
        for event in _events(built.settings, built.run)
        if event.type == "step.log"
        for line in event.payload["lines"]
        if line.get("level") == "warning" and "egress" in str(line["message"])
    ]
    endpoint = f"127.0.0.1:{server.port}"
    assert warnings == [
        f"egress refused: raw.githubusercontent.com:443 (not the model endpoint {endpoint})"
    ] * (1 + built.others), warnings
    _merged_and_clean(cli, built)
