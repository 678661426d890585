"""`missionctl run "GOAL"` as a person uses it: the plan shown, a question, the live table.

The offline outcome itself (plan, artifacts about the goal, report) is in
``test_run_offline.py``; here are the options and what is drawn: ``--constraints``,
``--budget``, ``--yes``, ``--model`` (through the real openai SDK against the scripted server
on 127.0.0.1), and the question asked on a terminal (a real pseudo-terminal).
"""

import asyncio
import json
import os
import platform
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.services import open_context
from missionctl.services.usecases.missions import read_missions
from missionctl.services.usecases.plans import read_plan
from missionctl.settings import get_settings
from tests.e2e.test_llm_mission import answer_mission_call, plan_json
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage
from tests.support.terminal import as_foreground_job

GOAL = "Build a URL shortener with click analytics"
MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))
INTERRUPT = "^C"  # an answer to the question: SIGINT, as Ctrl-C on a terminal sends


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh embedded home and no model: the local planner and engine."""
    for name in (
        "MISSIONCTL_DATABASE_URL",
        "MISSIONCTL_LLM_MODEL",
        "MISSIONCTL_LLM_BASE_URL",
        "MISSIONCTL_LLM_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def test_the_plan_is_shown_then_run_with_a_live_table(home: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", GOAL, "--constraints", "Postgres only", "--budget", "5", "--yes"],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    out = result.output
    plan_at = out.index("plan v1 from the local planner: ")
    run_at = out.index("steps 10/10  run completed")  # the live table's last drawing
    # The plan: every task with its role, dependencies, tier and estimate; then its risks.
    for header in ("task", "role", "depends on", "risk tier", "est. tokens", "mitigation"):
        assert header in out[plan_at:run_at]
    assert "click-analytics" in out[plan_at:run_at] and "api-contract, foundation" in out
    # The run's table: status, attempt, elapsed time, tokens and cost per task, and the report.
    for header in ("status", "attempt", "elapsed", "tokens in/out", "cost"):
        assert header in out[run_at:]
    assert out.count("succeeded") >= 6
    labelled = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith("Report ("))
    assert set(labelled) == {"Report (Markdown)", "Report (JSON)"}
    for shown in labelled.values():
        path = Path(shown.strip()).resolve()
        assert path.is_file() and path.is_relative_to(home / "reports")
    mission = asyncio.run(_only_mission())
    assert mission["constraints"] == ["Postgres only"]
    assert mission["budget_usd"] == 5.0


@pytest.mark.parametrize(("answer", "runs"), [("n", False), ("y", True)])
def test_on_a_terminal_the_plan_is_run_only_when_the_answer_is_yes(
    home: Path, answer: str, runs: bool
) -> None:
    output, code = _on_a_terminal([MISSIONCTL, "run", GOAL], answer=answer)

    assert code == 0, output
    assert "plan v1 from the local planner" in output
    assert "Run these 10 tasks? [Y/n]" in output
    assert ("run completed" in output) is runs
    assert ("not run; the mission and its plan are kept" in output) is not runs
    mission = asyncio.run(_only_mission())
    assert mission["status"] == ("completed" if runs else "planned")


def test_ctrl_c_at_the_question_ends_the_command_and_runs_nothing(home: Path) -> None:
    started = time.monotonic()
    output, code = _on_a_terminal([MISSIONCTL, "run", GOAL], answer=INTERRUPT)

    assert code == 1 and "Aborted" in output, output
    assert time.monotonic() - started < 60
    assert asyncio.run(_only_mission())["status"] == "planned"


def test_json_never_asks(home: Path) -> None:
    output, code = _on_a_terminal([MISSIONCTL, "run", GOAL, "--json"], answer=None)

    assert code == 0, output
    assert "Run these" not in output
    assert json.loads(output[output.index("{") :])["run"]["status"] == "completed"


def test_model_plans_and_runs_with_the_model_named(
    home: Path, openai_server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai_server.default_handler = answer_mission_call
    monkeypatch.setenv("MISSIONCTL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("MISSIONCTL_LLM_API_KEY", "sk-cli-model-secret")

    result = CliRunner().invoke(
        app, ["run", GOAL, "--model", "gpt-4o-mini", "--json"], catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert "sk-cli-model-secret" not in result.output
    outcome = json.loads(result.output)
    assert outcome["plan"]["source"] == "gpt-4o-mini"
    assert outcome["run"]["status"] == "completed"
    assert outcome["run"]["input_tokens"] > 0 and outcome["run"]["spent_usd"] > 0
    models = {request.body["model"] for request in openai_server.chat_requests if request.body}
    assert models == {"gpt-4o-mini"}


def test_a_run_that_does_not_complete_exits_1_saying_why(
    home: Path, openai_server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai_server.default_handler = lambda body: Content(plan_json(), usage=Usage(1200, 800))
    monkeypatch.setenv("MISSIONCTL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("MISSIONCTL_LLM_API_KEY", "sk-cli-model-secret")

    # Planning spends $0.00066 of $0.002 (the budget pays for its call), so the run's cap is
    # what is left, $0.00134, and the plan's token estimates at gpt-4o-mini's price pass it:
    # nothing may run.
    result = CliRunner().invoke(
        app,
        ["run", GOAL, "--model", "gpt-4o-mini", "--budget", "0.002", "--yes"],
        catch_exceptions=False,
    )

    assert result.exit_code == 1, result.output
    assert "run failed" in result.output
    assert re.search(r"estimated cost \$[0-9.]+ exceeds the budget cap \$0\.0013", result.output)
    assert len(openai_server.chat_requests) == 1  # the plan; no task was sent to the model


def test_an_empty_model_is_refused_before_anything_is_stored(home: Path) -> None:
    result = CliRunner().invoke(app, ["run", GOAL, "--model", " ", "--yes"])

    assert result.exit_code == 2
    assert "--model: give a model name" in result.output
    assert asyncio.run(_missions()) == []


def _on_a_terminal(argv: list[str], *, answer: str | None) -> tuple[str, int]:
    """Run ``argv`` with a pseudo-terminal as its input and output; answer its question.

    ``answer`` is typed, then Enter; :data:`INTERRUPT` sends SIGINT instead.
    """
    leader, follower = pty.openpty()
    env = os.environ | {"COLUMNS": "200", "LINES": "200"}
    process = subprocess.Popen(
        argv,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
        preexec_fn=as_foreground_job,  # Ctrl-C reaches it as it would from a terminal
    )
    os.close(follower)
    output = b""
    answered = answer is None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the process closed the terminal: it has ended
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and b"[Y/n]" in output:
                    if answer == INTERRUPT:
                        _wait_until_reading(process.pid)
                        process.send_signal(signal.SIGINT)
                    else:
                        os.write(leader, f"{answer}\n".encode())
                    answered = True
            elif process.poll() is not None:
                break
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return output.decode(errors="replace").replace("\r\n", "\n"), code


_READ_SYSCALL = {"x86_64": 0, "aarch64": 63}[platform.machine()]


def _wait_until_reading(pid: int) -> None:
    """Wait (up to 30 s) until process ``pid`` is in the terminal's ``read`` (after its question).

    CPython notices a signal between bytecodes or when a blocked call returns with EINTR. One
    that lands after ``input()`` has written the question but before its ``read()`` begins is
    noticed only once that read returns: a person cannot press Ctrl-C in that window, but a
    test that reacts to the question's text can, when the machine is busy. The process's state
    alone does not tell: a thread waiting for the interpreter lock sleeps too, so the system
    call it sleeps in is read (``read`` on descriptor 0).
    """
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        call = Path(f"/proc/{pid}/syscall").read_text().split()
        if call[:2] == [str(_READ_SYSCALL), "0x0"]:
            return
        time.sleep(0.01)


async def _missions() -> list[dict[str, Any]]:
    async with open_context(get_settings()) as ctx:
        page = await read_missions(ctx)
        return [m.model_dump(mode="json") for m in page.items]


async def _only_mission() -> dict[str, Any]:
    async with open_context(get_settings()) as ctx:
        page = await read_missions(ctx)
        assert len(page.items) == 1
        mission = page.items[0]
        assert (await read_plan(ctx, mission_id=mission.id)).version == 1
        return mission.model_dump(mode="json")
