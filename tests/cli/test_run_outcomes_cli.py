"""`missionctl run` offline says what the run produced: documents, not software.

The builtin specialists succeed at every task, and the closing line, the live table, the JSON
outcome and `missionctl runs show` all say the tasks were documented and nothing was built.
"""

import json
import re
from typing import Any

import pytest

from missionctl.domain.outcomes import BUILD_HINT

GOAL = "A chess engine in Rust with a UCI interface"


def test_an_offline_run_closes_with_what_its_tasks_produced(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("run", GOAL, "--yes")
    assert result.exit_code == 0, result.output
    out = result.stdout
    closing = re.search(r"^run completed: (\d+) tasks documented, 0 built: to build", out, re.M)
    assert closing is not None, out
    tasks = int(closing[1])
    assert " ".join(out[closing.start() :].split()).startswith(
        f"run completed: {tasks} tasks documented, 0 built: {BUILD_HINT}"
    )
    table = out[out.rindex(f"steps {tasks}/{tasks}  run completed") : closing.start()]
    assert "outcome" in table and table.count("documented") == tasks
    assert max(len(line) for line in table.splitlines()) <= 80, "the live table fits 80 columns"

    run_id = re.search(r"^run (\S+)  tokens in/out", out, re.M)
    assert run_id is not None, out
    shown = cli("runs", "show", run_id[1])
    assert shown.exit_code == 0, shown.output
    assert " ".join(shown.stdout.split()).count(f"outcome {tasks} tasks documented, 0 built") == 1
    assert shown.stdout.count("documented") >= tasks + 1
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80


def test_the_json_outcome_carries_the_headline_and_each_steps_outcome(cli: Any) -> None:
    result = cli("run", GOAL, "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    tasks = outcome["plan"]["tasks"]
    assert outcome["run"]["headline"] == f"{tasks} tasks documented, 0 built: {BUILD_HINT}"
    assert outcome["run"]["outcomes"] == {"documented": tasks}
    assert [s["outcome"] for s in outcome["steps"]] == ["documented"] * tasks
    assert {s["status"] for s in outcome["steps"]} == {"succeeded"}


def test_runs_show_refuses_a_malformed_run_id(cli: Any) -> None:
    shown = cli("runs", "show", "not-a-run\x00")
    assert shown.exit_code != 0
    assert "Traceback" not in shown.output
