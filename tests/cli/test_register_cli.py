"""``missionctl decisions`` and ``missionctl risks`` on the local database: list, add, edit
(a stale --version exits 2 and changes nothing) and export ADR files."""

import json
from pathlib import Path
from typing import Any


def _planned(cli: Any) -> str:
    created = cli("mission", "create", "Build a URL shortener with click analytics", "--json")
    assert created.exit_code == 0, created.output
    mission_id: str = json.loads(created.output)["id"]
    planned = cli("mission", "plan", mission_id)
    assert planned.exit_code == 0, planned.output
    return mission_id


def test_decisions_list_add_edit_and_export(cli: Any, tmp_path: Path) -> None:
    mission_id = _planned(cli)
    listed = json.loads(cli("decisions", "list", mission_id, "--json").output)
    assert listed and {d["status"] for d in listed} == {"accepted"}

    added = cli(
        "decisions", "add", mission_id, "--title", "Cache redirects", "--choice", "In memory",
        "--reason", "Fast", "--decider", "Ada", "--supersedes", listed[0]["id"], "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    new = json.loads(added.output)
    assert new["supersedes"] == listed[0]["id"] and new["deciders"] == ["Ada"]

    edited = cli(
        "decisions", "edit", mission_id, new["id"], "--version", "1", "--status", "accepted",
    )  # fmt: skip
    assert edited.exit_code == 0 and "version 2" in edited.output
    stale = cli("decisions", "edit", mission_id, new["id"], "--version", "1", "--title", "X")
    assert stale.exit_code == 2 and "version" in stale.output
    bad = cli("decisions", "add", mission_id, "--title", "T", "--choice", "C", "--reason", "")
    assert bad.exit_code == 2 and "--reason" in bad.output

    out = tmp_path / "adr"
    exported = cli("decisions", "export", mission_id, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == len(listed) + 1
    first = (out / files[0]).read_text()
    assert "Superseded by [ADR" in first and "cache-redirects.md" in first


def test_risks_list_add_and_edit(cli: Any) -> None:
    mission_id = _planned(cli)
    register = json.loads(cli("risks", "list", mission_id, "--json").output)
    risk = register["risks"][0]
    shown = cli("risks", "list", mission_id)
    assert shown.exit_code == 0 and "open and mitigating risks" in shown.output

    plan = json.loads(cli("mission", "show-plan", mission_id, "--json").output)
    task = plan["tasks"][0]["key"]
    added = cli(
        "risks", "add", mission_id, "--title", "Alias squatting", "--description", "Grabs",
        "--severity", "high", "--likelihood", "low", "--mitigation", "Reserve", "--task", task,
        "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["mitigation_tasks"] == [task]
    unknown = cli(
        "risks", "add", mission_id, "--title", "T", "--description", "D", "--severity", "low",
        "--likelihood", "low", "--mitigation", "M", "--task", "no-such-task",
    )  # fmt: skip
    assert unknown.exit_code == 2 and "mitigation_tasks.0" in unknown.output

    edited = cli(
        "risks", "edit", mission_id, risk["id"], "--version", "1", "--status", "mitigating",
        "--owner", "Ada", "--json",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output
    assert json.loads(edited.output)["status"] == "mitigating"
    stale = cli("risks", "edit", mission_id, risk["id"], "--version", "1", "--owner", "Bob")
    assert stale.exit_code == 2
    after = json.loads(cli("risks", "list", mission_id, "--json").output)["risks"][0]
    assert (after["owner"], after["version"]) == ("Ada", 2)
