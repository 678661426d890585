"""A model's plan printed as it is written: ``mission plan`` here and against a server.

The scripted Chat Completions server streams the plan in small pieces with a pause between
them; each drafted task's line is printed while the reply is still coming, then the plan as
before. ``--json`` prints one JSON document, nothing else.
"""

import asyncio
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from missionctl.cli import _drafts, app
from missionctl.demo.chat_server import RecordedRequest, ScriptedChatServer
from missionctl.domain.access import Role
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.settings import LLMSettings, Settings
from tests.conftest import LiveServer
from tests.e2e.test_llm_mission import GOAL, plan_json
from tests.support.auth import ensure_user

MODEL = "drafting-model"
TASKS = [task["key"] for task in json.loads(plan_json())["tasks"]]
TASK_LINE = re.compile(r"^\s+task\s+(\d+)\s+(.+)$", re.MULTILINE)


@pytest.fixture
def chat() -> Iterator[ScriptedChatServer]:
    """A model that writes the plan of GOAL slowly: 120 characters every 20 ms."""

    def script(request: RecordedRequest) -> str:
        return json.dumps(json.loads(plan_json()), indent=1)

    with ScriptedChatServer(script, chunk_chars=120, chunk_delay_s=0.02) as server:
        yield server


@pytest.fixture
def printed_at(chat: ScriptedChatServer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pieces of the reply the server had sent when each drafted task was printed."""
    seen: list[int] = []
    original = _drafts.print_draft

    def recording(payload: Mapping[str, Any]) -> None:
        if payload.get("kind") == "task":
            seen.append(chat.pieces_sent)
        original(payload)

    monkeypatch.setattr(_drafts, "print_draft", recording)
    return seen


def _task_lines(output: str) -> list[str]:
    return [name for _, name in TASK_LINE.findall(output)]


def _assert_printed_as_written(
    result: Result, printed_at: list[int], chat: ScriptedChatServer
) -> None:
    assert result.exit_code == 0, result.output
    assert chat.errors == [] and len(chat.chat_requests) == 1
    lines = _task_lines(result.stdout)
    assert len(lines) == len(TASKS), result.stdout
    # Each task line before the plan's own summary, in the plan's order.
    assert result.stdout.index(lines[-1]) < result.stdout.index("plan v1")
    # Printed while the reply was still coming: the first well before its last piece.
    assert len(printed_at) == len(TASKS)
    assert printed_at == sorted(printed_at)
    assert printed_at[0] < chat.pieces_sent - 5, (printed_at, chat.pieces_sent)


def _assert_pure_json(result: Result) -> None:
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # one document, and nothing around it
    assert document["version"] == 2 and [t["key"] for t in document["tasks"]] == TASKS
    assert _task_lines(result.stdout) == []


def test_here_each_task_is_printed_as_the_model_writes_it_and_json_stays_pure(
    chat: ScriptedChatServer,
    printed_at: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_LLM_BASE_URL", chat.base_url)
    monkeypatch.setenv("MISSIONCTL_LLM_MODEL", MODEL)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("MISSIONCTL_DATABASE_URL", "MISSIONCTL_URL", "MISSIONCTL_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    run = _runner()

    created = run("mission", "create", GOAL, "--json")
    mission_id = json.loads(created.stdout)["id"]
    _assert_printed_as_written(run("mission", "plan", mission_id), printed_at, chat)
    _assert_pure_json(run("mission", "plan", mission_id, "--json"))


async def _operator_token(settings: Settings) -> str:
    async with open_context(settings, upgrade=False) as ctx:
        await ensure_user(ctx, "alice", Role.OPERATOR)
        _, secret = await identity.create_token(ctx, user_name="alice", name="bot", actor="system")
    return secret


def test_against_a_server_each_task_is_printed_as_the_model_writes_it_and_json_stays_pure(
    chat: ScriptedChatServer,
    printed_at: list[int],
    sqlite_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llm = LLMSettings(base_url=chat.base_url, api_key=SecretStr("unused-key"), model=MODEL)
    server = LiveServer(sqlite_settings.model_copy(update={"llm": llm}))
    server.start()
    try:
        token = asyncio.run(_operator_token(server.settings))
        monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "cli-home"))
        monkeypatch.setenv("COLUMNS", "200")
        for name in ("MISSIONCTL_DATABASE_URL", "MISSIONCTL_LLM_MODEL"):
            monkeypatch.delenv(name, raising=False)
        run = _runner({"MISSIONCTL_URL": server.url, "MISSIONCTL_TOKEN": token})
        created = run("mission", "create", GOAL, "--json")
        mission_id = json.loads(created.stdout)["id"]
        _assert_printed_as_written(run("mission", "plan", mission_id), printed_at, chat)
        _assert_pure_json(run("mission", "plan", mission_id, "--json"))
    finally:
        server.stop()


def test_a_draft_line_names_the_item_and_escapes_the_models_markup() -> None:
    item = {"title": "[bold]x[/bold]", "role": "backend", "depends_on": ["api", "db"]}
    task = {"kind": "task", "attempt": 1, "index": 2, "item": item}
    phase_item = {"name": "Build", "task_keys": ["a"]}
    phase = {"kind": "phase", "attempt": 1, "index": 0, "item": phase_item}

    assert _drafts.draft_line(task) == (
        "  [cyan]task [/cyan]  3  \\[bold]x\\[/bold]  [dim]backend · after api, db[/dim]"
    )
    assert _drafts.draft_line(phase) == "  [cyan]phase[/cyan]  1  Build  [dim]1 task[/dim]"
    assert "again" in (_drafts.draft_line({"kind": "restart", "attempt": 2}) or "")
    assert _drafts.draft_line({"kind": "task", "item": "nope"}) is None


def _runner(env: dict[str, str] | None = None) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    return run
