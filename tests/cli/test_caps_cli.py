"""``missionctl caps …`` in an 80-column terminal: set, change, list and remove spending caps,
and refusals with the documented exit codes that change nothing."""

import json
from typing import Any

import pytest


def test_caps_from_setting_to_removing_fit_80_columns(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert "No spending caps" in cli("caps", "list").stdout
    made = cli("caps", "set", "llm:writer", "--per", "day", "--usd", "5")
    assert made.exit_code == 0, made.output
    assert "llm:writer per UTC day: $0.00 of $5.00 spent, $5.00 left" in made.stdout
    assert "reopens" in made.stdout and "00:00 UTC" in made.stdout
    assert cli("caps", "set", "*", "--per", "month", "--usd", "250.5").exit_code == 0
    changed = cli("caps", "set", "llm:writer", "--per", "day", "--usd", "7.25", "--json")
    assert json.loads(changed.stdout)["cap_usd"] == 7.25

    listed = cli("caps", "list")
    assert listed.exit_code == 0, listed.output
    assert all(len(line) <= 80 for line in listed.stdout.splitlines()), listed.stdout
    assert "all agents" in listed.stdout and "$7.25" in listed.stdout
    caps = json.loads(cli("caps", "list", "--json").stdout)
    assert [(c["agent"], c["period"]) for c in caps] == [("*", "month"), ("llm:writer", "day")]

    removed = cli("caps", "remove", "llm:writer", "--per", "day")
    assert removed.exit_code == 0, removed.output
    assert [c["agent"] for c in json.loads(cli("caps", "list", "--json").stdout)] == ["*"]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("set", "llm:writer", "--per", "week", "--usd", "5"), 2, "--per"),
        (("set", "llm:writer", "--per", "day", "--usd", "0"), 2, "--usd"),
        (("set", "llm:writer", "--per", "day", "--usd", "0.0000001"), 2, "--usd"),
        (("set", "nope:x", "--per", "day", "--usd", "5"), 2, "agent"),
        (("remove", "llm:writer", "--per", "day"), 1, "no cap on llm:writer per day"),
    ],
)
def test_a_bad_cap_command_says_what_to_fix_and_changes_nothing(
    cli: Any, args: tuple[str, ...], code: int, says: str
) -> None:
    refused = cli("caps", *args)
    assert refused.exit_code == code, refused.output
    assert says in refused.output
    assert "Traceback" not in refused.output
    assert json.loads(cli("caps", "list", "--json").stdout) == []
