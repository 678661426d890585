"""``missionctl epic …`` in an 80-column terminal: make, fill, show, rename, archive and
restore an epic by its name or its id's first digits, and refusals with the documented exit
codes that change nothing."""

import json
import re
from typing import Any

import pytest

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
GOALS = (
    "A tide-table widget for a surf school's website with booking hints",
    "Payroll export from a small café's shift planner to a CSV file",
)


def _planned(cli: Any, goal: str) -> str:
    made = cli("mission", "create", goal)
    assert made.exit_code == 0, made.output
    mission_id: str = UUID.findall(made.stdout)[0]
    planned = cli("mission", "plan", mission_id)
    assert planned.exit_code == 0, planned.output
    return mission_id


def test_an_epic_from_making_to_archiving_fits_80_columns(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    surf, payroll = (_planned(cli, goal) for goal in GOALS)
    assert cli("user", "add", "maya", "--role", "operator").exit_code == 0
    made = cli(
        "epic", "create", "Surf season", "--owner", "maya", "--target", "2020-05-01",
        "--budget-usd", "0.50", "--mission", surf, "--description", "The spring relaunch",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "owner maya" in made.stdout and "late" in made.stdout, "2020 has passed"
    epic_id = UUID.findall(made.stdout)[0]
    added = cli("epic", "add", "Surf season", payroll)
    assert added.exit_code == 0 and "2 missions: 2 planned" in added.stdout, added.output

    shown = cli("epic", "show", epic_id[:13])
    assert shown.exit_code == 0, shown.output
    assert all(len(line) <= 80 for line in shown.stdout.splitlines()), shown.stdout
    rollup = json.loads(cli("epic", "show", "Surf season", "--json").stdout)
    assert f"tasks {rollup['tasks']['total']}: planned {rollup['tasks']['total']}" in shown.stdout
    assert f"open risks {rollup['open_risks']}" in shown.stdout
    assert {surf, payroll} <= set(UUID.findall(shown.stdout)), "ids whole: commands take them"
    assert f"/board?epic={epic_id}" in shown.stdout

    listed = cli("epic", "list")
    assert all(len(line) <= 80 for line in listed.stdout.splitlines()), listed.stdout
    assert "Surf season" in listed.stdout and "$0.50" in listed.stdout

    other = _planned(cli, "A lost-and-found register for a ferry company's terminals")
    board = cli("board", "--epic", "Surf season", "--json")
    assert board.exit_code == 0, board.output
    on_board = {
        c["mission_id"] for col in json.loads(board.stdout)["columns"] for c in col["cards"]
    }
    assert on_board == {surf, payroll} and other not in on_board
    assert cli("board", "--epic", "No such epic").exit_code == 1

    renamed = cli("epic", "edit", "Surf season", "--name", "Surf 2027", "--no-target")
    assert renamed.exit_code == 0 and "no target date" in renamed.stdout, renamed.output
    assert cli("epic", "remove", "Surf 2027", payroll).exit_code == 0
    assert cli("epic", "archive", "Surf 2027").exit_code == 0
    assert cli("epic", "list").stdout.startswith("No active epics")
    assert "Surf 2027" in cli("epic", "list", "--archived").stdout
    refused = cli("epic", "edit", "Surf 2027", "--name", "Other")
    assert refused.exit_code != 0 and "archived" in refused.output
    restored = cli("epic", "restore", "Surf 2027")
    assert restored.exit_code == 0 and "1 mission: 1 planned" in restored.stdout


def test_refusals_name_the_option_and_change_nothing(cli: Any) -> None:
    mission = _planned(cli, GOALS[0])
    first = cli("epic", "create", "Holds it", "--owner", "tester", "--mission", mission)
    # "tester" is no user of this database: nothing is made.
    assert first.exit_code == 2 and "--owner" in first.output, first.output
    assert cli("user", "add", "tess", "--role", "operator").exit_code == 0
    assert cli("epic", "create", "Holds it", "--owner", "tess", "--mission", mission).exit_code == 0
    cases = [
        (("epic", "create", "Second", "--owner", "tess", "--mission", mission), "Holds it"),
        (("epic", "create", "Holds it", "--owner", "tess"), "exists already"),
        (("epic", "create", "Bad", "--owner", "tess", "--budget-usd", "0.0000001"), "--budget-usd"),
        (("epic", "create", "Bad", "--owner", "tess", "--target", "soon"), "--target"),
        (("epic", "create", "Bad", "--owner", "tess", "--mission", "zzzz"), "--mission"),
        (("epic", "create", "x\x00y", "--owner", "tess"), "NAME"),
        (("epic", "show", "No such epic"), "no epic called"),
    ]
    for args, words in cases:
        answer = cli(*args)
        assert answer.exit_code in (1, 2), (args, answer.output)
        assert words in answer.output, (args, answer.output)
        assert "Traceback" not in answer.output
    epics = json.loads(cli("epic", "list", "--all", "--json").stdout)
    assert [(e["name"], e["missions"]) for e in epics] == [("Holds it", 1)]
