"""`missionctl run "GOAL"` with a goal the local planner cannot read: questions, nothing run."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app
from tests.cli.test_remote_cli import text


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    for name in ("MISSIONCTL_DATABASE_URL", "MISSIONCTL_LLM_MODEL", "MISSIONCTL_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    return CliRunner().invoke(app, ["run", *args], catch_exceptions=False)


def test_run_prints_the_questions_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _run(tmp_path, monkeypatch, "Créer une application de réservation pour un salon")

    assert asked.exit_code == 1, asked.output
    assert "reads as French" in text(asked) and "local planner reads English" in text(asked)
    assert "missionctl mission answer" in text(asked) and "plan v1" not in text(asked)
    assert not (tmp_path / "home" / "reports").exists()


def test_run_as_json_says_the_planner_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _run(tmp_path, monkeypatch, "Build a thing.", "--json")

    assert asked.exit_code == 1
    outcome = json.loads(asked.stdout)
    assert outcome["status"] == "needs_clarification"
    assert outcome["plan"] is None and outcome["run"] is None
    assert len(outcome["questions"]) == 4 and outcome["mission"]["title"] == "Build a thing"
