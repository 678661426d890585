"""An 80-column terminal: ids copied from a listing work anywhere, and a run's closing lines
say where its report and its page are.

`mission list` prints every id whole, on a line of its own; every command that takes an id
also takes its first digits (at least four) when they name one record. `mission run` ends as
`missionctl run` does: the artifacts' count, the report files and the run's web address, the
local server's when one on this machine keeps the same database.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app
from tests.conftest import LiveServer

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
GOALS = ("A tide table widget for a sailing club", "A rota for a volunteer fire brigade")


def _created_ids(cli: Any) -> list[str]:
    ids = []
    for goal in GOALS:
        made = cli("mission", "create", goal)
        assert made.exit_code == 0, made.output
        ids.append(UUID.findall(made.stdout)[0])
    return ids


def test_ids_in_the_list_are_whole_and_their_first_digits_work_everywhere(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    first, second = _created_ids(cli)
    listed = cli("mission", "list")
    assert listed.exit_code == 0, listed.output
    assert all(len(line) <= 80 for line in listed.stdout.splitlines()), listed.stdout
    assert set(UUID.findall(listed.stdout)) == {first, second}  # whole, never cut with "…"
    assert "…" not in "".join(UUID.findall(listed.stdout))

    # The shortest prefix that tells the two apart, with its dashes, as it was copied.
    length = next(n for n in range(4, 36) if first[:n] != second[:n]) + 1
    shown = cli("mission", "show", first[:length])
    assert shown.exit_code == 0, shown.output
    assert first in shown.stdout
    planned = cli("mission", "plan", first[:length].upper().replace("-", ""))
    assert planned.exit_code == 0, planned.output
    plan = cli("mission", "show-plan", first[:length])
    assert plan.exit_code == 0 and "next steps:" in plan.stdout, plan.output
    for command in (("mission", "plans"), ("decisions", "list"), ("docs", "list")):
        answered = cli(*command, first[:length])
        assert answered.exit_code == 0, (command, answered.output)


def test_a_prefix_of_several_ids_or_of_none_is_refused_with_the_fix(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    first, second = _created_ids(cli)
    common = next(first[:n] for n in range(36, 3, -1) if first[:n] == second[:n])
    several = cli("mission", "show", common)
    assert several.exit_code == 2, several.output
    assert first in several.output and second in several.output
    assert "type more of the one you mean" in " ".join(several.output.split())
    none = cli("mission", "show", "ffffffff")
    assert none.exit_code == 1 and "no mission has an id that starts with" in none.output
    other_kind = cli("runs", "show", first[:20])
    assert other_kind.exit_code == 1 and "no run has an id" in other_kind.output
    for bad in ("01a", "zz-top", "01a2%2F..", "0" * 40):
        refused = cli("mission", "show", bad)
        assert refused.exit_code == 2, (bad, refused.output)
        assert "Traceback" not in refused.output


def test_mission_run_ends_with_the_report_files_and_the_local_servers_address(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = live_server.settings
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("MISSIONCTL_HOME", str(settings.home))
    monkeypatch.setenv("MISSIONCTL_SERVER_PORT", str(live_server.port))
    monkeypatch.delenv("MISSIONCTL_URL", raising=False)
    monkeypatch.delenv("MISSIONCTL_SERVER_PUBLIC_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def cli(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    mission_id = UUID.findall(cli("mission", "create", GOALS[0]).stdout)[0]
    assert cli("mission", "plan", mission_id[:13]).exit_code == 0
    ran = cli("mission", "run", mission_id[:13])
    assert ran.exit_code == 0, ran.output
    out = ran.stdout
    run_id = re.search(r"^run (\S+)  tokens in/out", out, re.MULTILINE)
    assert run_id is not None, out
    assert re.search(r"^\d+ artifacts$", out, re.MULTILINE), out
    labelled = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    markdown = Path(labelled["Report (Markdown)"].strip()).resolve()  # shown from the cwd
    assert markdown.is_relative_to(settings.home.resolve() / "reports")
    assert run_id[1] in (markdown.with_name("report.json")).read_text()
    assert labelled["Run on the web"].strip() == f"{live_server.url}/runs/{run_id[1]}"

    # A server on this machine that keeps another database is not where this run is.
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "other"))
    other = UUID.findall(cli("mission", "create", GOALS[1]).stdout)[0]
    assert cli("mission", "plan", other).exit_code == 0
    elsewhere = cli("mission", "run", other)
    assert elsewhere.exit_code == 0, elsewhere.output
    assert "Run on the web" not in elsewhere.stdout and "Report (Markdown)" in elsewhere.stdout
