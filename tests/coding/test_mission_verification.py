"""A mission's coding steps get its model endpoint and its test command, given or detected.

Through the API, the CLI and the new-mission form; shown on the mission's page; compiled into
each coding step's inputs; and at the end of each coding step's prompt, with the failed test
run's last lines on a retry.
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import Result
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.domain.access import Role
from missionctl.planning import coding_inputs, compile_plan
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanDraft
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission, read_missions
from missionctl.settings import Settings
from tests.coding.helpers import allow_coding, coding_agents, git, make_repository, plan_task
from tests.engine.helpers import running_engine, start, wait_for_run
from tests.support.auth import bearer_headers
from tests.web.support import HTMX

# Its subject is the coding step's verification, not the database (tests/conftest.py).
pytestmark = pytest.mark.one_database

KEY = "sk-ant-api03-" + "a1B2c3D4e5F6g7H8" * 3
MODEL = {"base_url": "https://llm.example.com/v1", "secret": "anthropic", "name": "claude-x"}
Invoke = Callable[..., Result]


def body(repo: Path | str, **repository: Any) -> dict[str, Any]:
    """A mission on ``repo`` whose code tasks run on ``coding:claude``."""
    named = {"source": str(repo), "agent": "coding:claude"} | repository
    return {"goal": "Add a health check endpoint", "repository": named}


async def test_the_api_stores_and_shows_the_model_and_test_command(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    sent = body(repo, model=MODEL, test_command=["python", "-m", "pytest", "-q", "tests/a b"])
    created = await client.post("/api/v1/missions", json=sent)
    assert created.status_code == 201, created.text
    shown = (await client.get(f"/api/v1/missions/{created.json()['id']}")).json()["repository"]
    assert shown["model"] == MODEL
    assert shown["test_command"] == ["python", "-m", "pytest", "-q", "tests/a b"]
    assert shown["test_command_detected"] is False and shown["test_command_note"] is None
    page = (await client.get(f"/missions/{created.json()['id']}")).text
    assert "https://llm.example.com/v1" in page and "<code>anthropic</code>" in page
    assert "python -m pytest -q tests/a b" in page
    viewer = await bearer_headers(ctx, "viewer-tests", Role.VIEWER)
    assert (await client.post("/api/v1/missions", json=sent, headers=viewer)).status_code == 403
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert {"model", "test_command"} <= set(schema["MissionRepository"]["properties"])
    assert "test_command_note" in schema["MissionRepositoryRead"]["properties"]


@pytest.mark.parametrize(
    ("repository", "field", "said"),
    [
        ({"model": MODEL | {"base_url": 'https://x.example.com/"a'}}, "repository.model.base_url",
         "http or https URL"),
        ({"model": MODEL | {"base_url": "https://x.example.com/\nHost: evil"}},
         "repository.model.base_url", "http or https URL"),
        ({"model": MODEL | {"base_url": "https://user:pw@x.example.com"}},
         "repository.model.base_url", "no user or password"),
        ({"model": MODEL | {"secret": KEY}}, "repository.model.secret", "looks like a key"),
        ({"model": MODEL | {"secret": "ABCDEF0123456789abcdef0123456789"}},
         "repository.model.secret", "looks like a key"),
        ({"model": MODEL | {"secret": "my secret"}}, "repository.model.secret", "letters, digits"),
        ({"model": MODEL | {"name": "x'; rm -rf /"}}, "repository.model.name", "model name"),
        ({"model": {"base_url": "https://x.example.com"}}, "repository.model.secret", "required"),
        ({"test_command": ["pytest", "-k", "a\nb"]}, "repository.test_command", "line breaks"),
        ({"test_command": ["pytest\x00"]}, "repository.test_command", "NUL"),
        ({"test_command": ["x" * 1001]}, "repository.test_command.0", "1000 characters"),
        ({"test_command": ["pytest"] + ["-q"] * 60}, "repository.test_command", "at most 50"),
        ({"test_command": ["x" * 900] * 5}, "repository.test_command", "4000 characters"),
        ({"test_command": [" "]}, "repository.test_command", "the command that runs the tests"),
        ({"test_command": []}, "repository.test_command", "at least 1"),
    ],
)  # fmt: skip
async def test_bad_model_or_test_command_is_a_422_naming_the_field_and_nothing_is_stored(
    ctx: ServiceContext,
    client: httpx2.AsyncClient,
    repository: dict[str, Any],
    field: str,
    said: str,
) -> None:
    await allow_coding(ctx, "/srv/repos")
    refused = await client.post("/api/v1/missions", json=body("/srv/repos/shop", **repository))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == field and said in error["message"], error
    assert KEY not in refused.text, "a key given as a name is not repeated"
    assert (await read_missions(ctx)).total == 0


async def _created(ctx: ServiceContext, repo: Path, **repository: Any) -> Any:
    data = MissionCreate.model_validate(body(repo, **repository))
    return (await create_mission(ctx, data=data, actor="user:test")).repository


async def test_creating_a_mission_detects_its_test_command_once_and_the_page_shows_it(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    (repo / "pytest.ini").write_text("[pytest]\n")
    git(repo, "add", "pytest.ini")
    git(repo, "commit", "--quiet", "-m", "tests")
    await allow_coding(ctx, repo)
    found = await _created(ctx, repo)
    assert found.test_command == ["python", "-m", "pytest", "-q"]
    assert found.test_command_detected
    assert found.test_command_note.startswith("detected from pytest.ini at main (")
    given = await _created(ctx, repo, test_command=["make", "check"])
    assert given.test_command == ["make", "check"] and not given.test_command_detected
    bare = tmp_path / "bare"
    bare.mkdir()
    plain = make_repository(bare)
    await allow_coding(ctx, plain)
    none = await _created(ctx, plain)
    assert none.test_command is None and none.test_command_note.startswith("no test setup found")
    listed = (await read_missions(ctx)).items
    page = (await client.get(f"/missions/{listed[0].id}")).text
    assert (
        "No test command: coding tasks will be <code>changed</code>, not <code>built</code>" in page
    )
    assert "no test setup found at main" in page


def test_compile_gives_each_coding_step_the_missions_model_and_test_command() -> None:
    plan = PlanDraft.model_validate(
        {
            "summary": "Code tasks and a review.",
            "requirements": [{"key": "R1", "text": "It works."}],
            "tasks": [
                plan_task("api", "backend", "Build it."),
                plan_task("ui", "frontend", "Show it."),
                plan_task("docs", "docs", "Write it."),
                plan_task("qa", "qa", "Check."),
            ],
        }
    )
    repository = {"source": "/srv/x", "agent": "coding:claude", "model": MODEL,
                  "test_command": ["npm", "test"], "test_command_note": "found"}  # fmt: skip
    spec = compile_plan(
        plan, mission_title="T", coding_agent="coding:claude", coding=coding_inputs(repository)
    )
    steps = {step.id: step for step in spec.steps}
    assert steps["api"].inputs["model"] == MODEL
    assert steps["api"].inputs["test_command"] == ["npm", "test"]
    assert "model" not in steps["qa"].inputs and "test_command" not in steps["qa"].inputs
    assert coding_inputs({"source": "/srv/x", "test_command": None}) == {}


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``missionctl`` in-process on the test's database (the one ``settings`` names)."""
    monkeypatch.setenv("MISSIONCTL_HOME", str(settings.home))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", settings.database.url.get_secret_value())
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def test_the_cli_flags_set_them_and_bad_ones_are_one_line_errors(
    cli: Invoke, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    assert cli("agents", "allow-repository", str(repo)).exit_code == 0
    base = ["mission", "create", "Add a health check", "--repository", str(repo),
            "--coding-agent", "coding:claude"]  # fmt: skip
    made = cli(*base, "--model-endpoint", "https://llm.example.com/v1", "--model-secret",
               "anthropic", "--model", "claude-x", "--test-command", "python -m pytest -q 'a b'",
               "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    shown = json.loads(made.output)["repository"]
    assert shown["model"] == MODEL and shown["test_command"][-1] == "a b"
    said = " ".join(cli(*base).output.split())
    assert (
        "no test command: coding tasks will be `changed`, not `built`; give --test-command" in said
    )
    for args, expected in [
        (["--test-command", 'python -m pytest "unclosed'], "--test-command: cannot split it"),
        (["--test-command", "x" * 1001], "--test-command: String should have at most 1000"),
        (["--model-endpoint", "https://x.example.com", "--model-secret", KEY],
         "--model-secret: this looks like a key"),
        (["--model-endpoint", "https://x.example.com/a b", "--model-secret", "k"],
         "--model-endpoint: must be an http or https URL"),
        (["--model-endpoint", "https://x.example.com"], "--model-endpoint needs --model-secret"),
        (["--model", "claude-x"], "--model needs --model-endpoint"),
    ]:  # fmt: skip
        refused = cli(*base, *args)
        words = " ".join(refused.output.split())
        assert refused.exit_code == 2 and expected in words, (args, refused.output)
        assert "Traceback" not in refused.output and KEY not in refused.output
    lone = cli("mission", "create", "x", "--repository", str(repo), "--test-command", "make test")
    assert lone.exit_code == 2 and "give --coding-agent too" in lone.output
    assert json.loads(cli("mission", "list", "--json").output)["total"] == 2
    helped = " ".join(cli("mission", "create", "--help").output.split())
    for flag in ("--model-endpoint", "--model-secret", "--model", "--test-command"):
        assert flag in helped


async def test_the_form_takes_them_and_shows_errors_beside_the_fields_input_kept(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    form = {"goal": "Add a health check", "engine": "local", "repository": str(repo),
            "coding_agent": "coding:claude", "model_endpoint": "https://llm.example.com/v1",
            "model_secret": KEY, "test_command": 'pytest -k "unclosed'}  # fmt: skip
    refused = await client.post("/missions", data=form, headers=HTMX)
    assert refused.status_code == 422
    assert 'data-field="test_command"' in refused.text and "close every quote" in refused.text
    assert "looks like a key" in refused.text
    assert KEY not in refused.text, "a refused secret name is not shown again"
    assert "https://llm.example.com/v1" in refused.text, "the rest of the input is kept"
    assert (await read_missions(ctx)).total == 0
    form |= {"model_secret": "anthropic", "model_name": "claude-x", "test_command": "make check"}
    created = await client.post("/missions", data=form, headers=HTMX)
    assert created.status_code == 200, created.text
    [mission] = (await read_missions(ctx)).items
    assert mission.repository is not None and mission.repository.test_command == ["make", "check"]
    assert mission.repository.model is not None and mission.repository.model.name == "claude-x"
    viewer = await bearer_headers(ctx, "viewer-form", Role.VIEWER)
    assert (await client.post("/missions", data=form, headers=viewer)).status_code == 403


# The CLI: copies the prompt it was given into the worktree (committed, so it can be read).
COPY_PROMPT = "import shutil, sys; shutil.copy(sys.argv[1], 'prompt-copy.md')"
# The tests: pass once the prompt holds the failure's last line, else print 70 lines and fail.
# (The prompt holds this source too: the line it looks for is not spelt out in it.)
TESTS = (
    "import sys\n"
    "if f'line {7 * 10} of the failure' in open('prompt-copy.md').read(): sys.exit(0)\n"
    "for n in range(1, 71): print(f'line {n} of the failure')\n"
    "sys.exit(1)\n"
)


async def test_the_prompt_ends_with_how_it_is_checked_and_a_retry_sees_the_failed_run(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    step = {
        "id": "fix",
        "agent": "coding:generic",
        "retry": {"max_attempts": 2, "backoff_s": 0},
        "inputs": {
            "repository": str(repo),
            "approval_mode": "workspace-write",
            "prompt": "Fix the build.",
            "acceptance": ["The build passes", "No new dependency"],
            "argv": [sys.executable, "-c", COPY_PROMPT, "${prompt_file}"],
            "test_command": [sys.executable, "-c", TESTS],
        },
    }
    run = await start(ctx, [step])
    async with running_engine(ctx, agents=coding_agents(tmp_path)):
        done = await wait_for_run(ctx, run.id, within_s=60)
    fix = done.steps[0]
    assert done.status == "completed" and fix.attempt == 2, fix.error
    prompt = git(repo, "show", f"{fix.outputs['branch']}:prompt-copy.md")
    assert prompt.startswith("Fix the build.\n\n## How your work is checked")
    assert "- The build passes\n- No new dependency" in prompt
    assert f"After you finish, Mission Control runs `{sys.executable} -c " in prompt
    assert "the change counts as built only when it passes" in prompt
    assert "## The previous attempt failed its tests" in prompt
    assert "line 70 of the failure" in prompt and "line 11 of the failure" in prompt
    assert "line 10 of the failure" not in prompt, "only the last 60 lines"
