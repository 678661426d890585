"""`missionctl workflow …`: validate, apply, list, show and run definitions on each database."""

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.cli.workflows import parse_inputs
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import open_context
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.settings import get_settings
from tests.support.definitions import TANGLED, TANGLED_PROBLEMS

PIPELINE = """\
name: pipeline
description: Fan out and in.
inputs:
  target: {type: string, default: staging}
steps:
  - id: fetch
    agent: builtin:noop
  - id: lint
    agent: builtin:noop
    depends_on: [fetch]
  - id: test
    agent: builtin:noop
    depends_on: [fetch]
  - id: report
    agent: builtin:noop
    depends_on: [lint, test]
    inputs:
      where: "{{ inputs.target }}"
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def command_workflow(name: str, code: str, **extra: Any) -> str:
    definition = {
        "name": name,
        "inputs": {"n": {"type": "integer", "required": True}},
        "steps": [
            {
                "id": "script",
                "agent": "command",
                "inputs": {"argv": [sys.executable, "-c", code, "{{ inputs.n }}"]},
                **extra,
            }
        ],
    }
    return yaml.safe_dump(definition, sort_keys=False)


def test_validate_prints_layers_or_every_problem(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["workflow", "validate", write(tmp_path, "ok.yaml", PIPELINE)])
    assert ok.exit_code == 0, ok.output
    assert "OK pipeline: 4 steps in 3 layers" in ok.output
    assert "2. lint, test" in ok.output

    broken = PIPELINE.replace(
        "agent: builtin:noop\n    depends_on: [fetch]",
        "agent: builtin:nop\n    depends_on: [fetch, report]",
        1,
    )
    broken = broken.replace("inputs.target", "inputs.targt")
    bad = runner.invoke(app, ["workflow", "validate", write(tmp_path, "bad.yaml", broken)])
    assert bad.exit_code == 2
    assert "3 problems" in bad.output
    assert "steps.1.agent: unknown agent 'builtin:nop'; did you mean 'builtin:noop'?" in bad.output
    assert "dependency cycle: lint → report → lint" in bad.output
    assert "steps.3.inputs.where: unknown input 'targt'" in bad.output

    syntax = runner.invoke(app, ["workflow", "validate", write(tmp_path, "s.yaml", "name: [x\n")])
    assert syntax.exit_code == 2 and "definition: line 2, column 1" in syntax.output
    as_json = runner.invoke(
        app, ["workflow", "validate", "--json", write(tmp_path, "j.json", '{\n\t"name": 1}')]
    )
    assert as_json.exit_code == 2
    # Strict JSON (a tab is fine); a number is not a name, and steps are missing.
    assert {p["field"] for p in json.loads(as_json.stdout)["problems"]} == {"name", "steps"}
    missing = runner.invoke(app, ["workflow", "validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_validate_prints_schema_and_graph_problems_together(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["workflow", "validate", write(tmp_path, "tangled.yaml", TANGLED)]
    )
    assert result.exit_code == 2
    assert "4 problems" in result.output
    output = " ".join(result.output.split())  # the console wraps long lines
    expected = [f"{field}: {message}" for field, message in TANGLED_PROBLEMS]
    positions = [output.find(line) for line in expected]
    assert -1 not in positions and positions == sorted(positions), output


def test_apply_then_list_and_show(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "pipeline.yaml", PIPELINE)
    first = cli("workflow", "apply", path)
    assert first.exit_code == 0, first.output
    assert "saved pipeline v1" in first.output
    second = cli("workflow", "apply", path, "--json")
    saved = json.loads(second.stdout)
    assert saved["version"] == 2
    assert saved["graph"]["layers"] == [["fetch"], ["lint", "test"], ["report"]]

    listed = cli("workflow", "list")
    assert "Workflows (1)" in listed.output and saved["id"] in listed.output
    assert [w["name"] for w in json.loads(cli("workflow", "list", "--json").stdout)] == ["pipeline"]

    shown = cli("workflow", "show", "pipeline", "--version", "1")
    assert shown.exit_code == 0, shown.output
    assert "pipeline v1" in shown.output
    body = shown.output[shown.output.index("name: pipeline") : shown.output.index("layers (")]
    # The YAML shown is a definition that means the same as the one saved.
    assert WorkflowSpec.model_validate(yaml.safe_load(body)) == WorkflowSpec.model_validate(
        yaml.safe_load(PIPELINE)
    )
    assert "2. lint, test" in shown.output
    by_id = json.loads(cli("workflow", "show", saved["id"], "--json").stdout)
    assert by_id["version"] == 2

    assert cli("workflow", "show", "nothing").exit_code == 1
    invalid = cli(
        "workflow", "apply", write(tmp_path, "bad.yaml", PIPELINE.replace("fetch]", "fetc]", 1))
    )
    assert invalid.exit_code == 2
    assert "steps.1.depends_on: step 'lint' depends on 'fetc'" in invalid.output
    assert json.loads(cli("workflow", "list", "--json").stdout)[0]["versions"] == 2


def test_run_a_file_executes_it_here_and_exits_0(cli: Any, tmp_path: Path) -> None:
    code = "import sys; print('sum', int(sys.argv[1]) + 1)"
    path = write(tmp_path, "add.yaml", command_workflow("add", code))
    assert cli("agents", "allow", sys.executable, "--tier", "read").exit_code == 0
    result = cli("workflow", "run", path, "--input", "n=41")
    assert result.exit_code == 0, result.output
    assert "saved add v1" in result.output
    assert "run completed" in result.output
    assert "script" in result.output and "succeeded" in result.output

    as_json = cli("workflow", "run", "add", "-i", "n=1", "--json")
    assert as_json.exit_code == 0, as_json.output
    run = json.loads(as_json.stdout)
    assert run["status"] == "completed" and run["trigger"] == "cli"
    assert run["created_by"] == "system"
    assert run["steps"][0]["outputs"]["stdout_tail"] == "sum 2"

    shown = json.loads(cli("workflow", "show", "add", "--json").stdout)
    assert shown["version"] == 1 and run["workflow_id"] == shown["id"]


def test_a_failing_run_exits_1_and_shows_its_stderr(cli: Any, tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('boom: bad input ' + sys.argv[1] + chr(10)); sys.exit(3)"
    path = write(tmp_path, "boom.yaml", command_workflow("boom", code))
    assert cli("agents", "allow", sys.executable, "--tier", "read").exit_code == 0
    result = cli("workflow", "run", path, "--input", "n=7")
    assert result.exit_code == 1, result.output
    assert "run failed" in result.output
    assert "exited with code 3" in result.stderr
    assert "boom: bad input 7" in result.stderr


def test_run_refuses_bad_inputs_and_unknown_workflows(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "add.yaml", command_workflow("add", "pass"))
    wrong = cli("workflow", "run", path, "--input", "n=three")
    assert wrong.exit_code == 2
    assert "inputs.n: must be of type integer, got 'three'" in wrong.output
    missing = cli("workflow", "run", "add")
    assert missing.exit_code == 2 and "inputs.n: input 'n' is required" in missing.output
    assert cli("workflow", "run", "add", "--input", "oops").exit_code == 2
    unknown = cli("workflow", "run", "ghost.yaml")
    assert unknown.exit_code == 1
    assert "no file ghost.yaml, and no workflow of that name" in unknown.output


def test_detach_starts_the_run_and_returns(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "add.yaml", command_workflow("add", "pass"))
    assert cli("agents", "allow", sys.executable, "--tier", "read").exit_code == 0
    result = cli("workflow", "run", path, "-i", "n=1", "--detach", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["status"] in ("pending", "running") and run["trigger"] == "cli"


def test_a_step_waiting_for_approval_is_named(cli: Any, tmp_path: Path) -> None:
    definition = {
        "name": "gated",
        "steps": [{"id": "deploy", "agent": "builtin:noop", "risk_tier": "irreversible"}],
    }
    path = write(tmp_path, "gated.yaml", yaml.safe_dump(definition))
    approver = threading.Thread(target=lambda: asyncio.run(_approve_when_asked()))
    approver.start()
    try:
        result = cli("workflow", "run", path)
    finally:
        approver.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert "waiting for approval: step deploy (irreversible)" in result.output
    assert "run completed" in result.output


def test_a_step_approved_before_the_table_reads_it_is_still_named(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approver in another terminal can be faster than the table's next read of the run."""
    import missionctl.services.usecases.runs as runs

    read_run = runs.read_run

    async def approve_then_read(ctx: Any, *, run_id: Any) -> Any:
        for pending in await list_approvals(ctx, state="pending"):
            await decide_approval(ctx, ref=pending.id, approve=True, actor="user:approver")
        return await read_run(ctx, run_id=run_id)

    monkeypatch.setattr(runs, "read_run", approve_then_read)
    gated = {"agent": "builtin:noop", "risk_tier": "irreversible"}
    definition = {
        "name": "gated",
        "steps": [
            {"id": "deploy", **gated},  # asked for as the run starts
            {"id": "build", "agent": "builtin:noop"},
            {"id": "release", **gated, "depends_on": ["build"]},  # asked for as the run goes
        ],
    }
    result = cli("workflow", "run", write(tmp_path, "gated.yaml", yaml.safe_dump(definition)))
    assert result.exit_code == 0, result.output
    named = re.findall(r"waiting for approval: step (\S*) \((\w+)\)", result.output)
    assert named == [("deploy", "irreversible"), ("release", "irreversible")]
    assert result.output.count("waiting for approval") == 2
    assert "run completed" in result.output


async def _approve_when_asked(within_s: float = 20) -> None:
    """As a person would from another terminal: approve the first request that comes."""
    deadline = time.monotonic() + within_s
    async with open_context(get_settings(), upgrade=False) as ctx:
        while time.monotonic() < deadline:
            try:
                pending = await list_approvals(ctx, state="pending")
            except Exception:  # the CLI may not have created the schema yet
                pending = []
            if pending:
                await decide_approval(ctx, ref=pending[0].id, approve=True, actor="user:approver")
                return
            await asyncio.sleep(0.05)


def test_inputs_are_read_as_yaml_scalars() -> None:
    assert parse_inputs(
        ["n=3", "flag=true", "name=ada", "ratio=0.5", "tags=[a, b]", "raw=a: [b"]
    ) == {
        "n": 3,
        "flag": True,
        "name": "ada",
        "ratio": 0.5,
        "tags": ["a", "b"],
        "raw": "a: [b",
    }


def test_schema_prints_the_published_json_schema() -> None:
    result = CliRunner().invoke(app, ["workflow", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == WorkflowSpec.model_json_schema()


def test_validate_refuses_a_definition_nested_without_end(tmp_path: Path) -> None:
    # The report's 100 KB, in a child process: if parsing ever overflowed the stack again,
    # this test would fail (exit -11) instead of killing the test run.
    attack = write(tmp_path, "flow.yaml", "name: d\nsteps: " + "[" * 50_000 + "]" * 50_000)
    env = os.environ | {"MISSIONCTL_HOME": str(tmp_path / "home"), "COLUMNS": "300"}
    argv = [sys.executable, "-c", "from missionctl.cli import main; main()"]
    done = subprocess.run(
        [*argv, "workflow", "validate", attack],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "1 problem\n" in done.stderr
    assert (
        "definition: line 2, column 71: lists and mappings are nested deeper than 64 levels; "
        "flatten them" in done.stderr
    )
    # JSON's parser raises rather than crashes: checked in this process.
    deep_json = '{"name": "d", "steps": ' + "[" * 100_000 + "]" * 100_000 + "}"
    result = CliRunner().invoke(app, ["workflow", "validate", write(tmp_path, "d.json", deep_json)])
    assert result.exit_code == 2
    assert "definition: line 1, column 87: lists and mappings are nested deeper" in result.output


def test_an_input_nested_without_end_is_refused_before_anything_runs() -> None:
    deep = "tags=" + "[" * 50_000 + "]" * 50_000
    result = CliRunner().invoke(app, ["workflow", "run", "nothing-saved", "--input", deep])
    assert result.exit_code == 2
    assert "--input tags: line 1, column 65: lists and mappings are nested deeper" in " ".join(
        result.output.split()
    )
    # What YAML cannot read at all still stays the text given.
    assert parse_inputs(["when=2020-13-01", "odd=!!int x"]) == {
        "when": "2020-13-01",
        "odd": "!!int x",
    }
