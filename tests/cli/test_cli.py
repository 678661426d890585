"""The `missionctl` command line, run in-process against each database."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.main import get_command
from typer.testing import CliRunner

from missionctl import __version__
from missionctl.cli import app
from missionctl.db.migrate import head_revision

GOAL = "Write a command-line tool that converts CSV files to Parquet with schema inference"


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _sync_url(database_url: str) -> str:
    return database_url.replace("sqlite+aiosqlite", "sqlite")


def _all_command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        paths.append(prefix)
        # Typer vendors its own click, so walk groups by their `commands` mapping.
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


@pytest.fixture(scope="module")
def command_tree() -> Any:
    """The CLI's command tree, built once for the module: ``missionctl`` builds the same tree at
    each start, and building it took most of the time of each command's help."""
    return get_command(app)


def _help(tree: Any, path: list[str]) -> tuple[int, str]:
    """The exit code and output of ``missionctl PATH --help``, run on ``tree`` as
    ``CliRunner.invoke`` runs it on the tree it builds."""
    with CliRunner().isolation() as (_, _, output):
        try:
            tree.main(args=[*path, "--help"], prog_name="missionctl")
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        else:
            code = 0
        return code, output.getvalue().decode()


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "missionctl")
def test_every_command_has_help(command_tree: Any, path: list[str]) -> None:
    exit_code, output = _help(command_tree, path)
    assert exit_code == 0, output
    assert "Usage" in output
    # A one-line description follows the usage line.
    assert len([line for line in output.splitlines() if line.strip()]) > 2


def test_help_from_the_built_tree_is_the_commands_own() -> None:
    """``_help`` prints what ``missionctl … --help`` prints: checked on the top level, a group
    and a command."""
    tree = get_command(app)
    for path in ([], ["mission"], ["mission", "create"]):
        result = CliRunner().invoke(app, [*path, "--help"])
        assert _help(tree, path) == (result.exit_code, result.output)


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"missionctl {__version__}"


def test_mission_create_list_show(run) -> None:  # type: ignore[no-untyped-def]
    created = run(
        "mission",
        "create",
        GOAL,
        "-c",
        "Python 3.11",
        "-c",
        "no network",
        "--budget-usd",
        "2.5",
        "--json",
    )
    assert created.exit_code == 0, created.output
    mission = json.loads(created.output)
    assert mission["constraints"] == ["Python 3.11", "no network"]
    assert mission["budget_usd"] == 2.5

    listed = run("mission", "list", "--json")
    assert [m["id"] for m in json.loads(listed.output)["items"]] == [mission["id"]]
    table = run("mission", "list")
    assert "Missions (1)" in table.output

    shown = run("mission", "show", mission["id"])
    assert shown.exit_code == 0 and "status   draft" in shown.output
    assert "Python 3.11" in shown.output


def test_invalid_input_names_the_option_and_stores_nothing(run) -> None:  # type: ignore[no-untyped-def]
    result = run("mission", "create", "   ", "--budget-usd", "-1")
    assert result.exit_code == 2
    assert "GOAL" in result.output and "--budget-usd" in result.output
    assert json.loads(run("mission", "list", "--json").output)["total"] == 0
    assert "OK 0 events" in run("audit", "verify").output


def test_unknown_mission_exits_1(run) -> None:  # type: ignore[no-untyped-def]
    result = run("mission", "show", "01234567-89ab-7def-8123-456789abcdef")
    assert result.exit_code == 1
    assert "no mission with id" in result.output


def test_audit_verify_names_the_first_broken_seq(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        assert run("mission", "create", f"{GOAL} #{i}").exit_code == 0
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "OK 4 events" in ok.output

    engine = create_engine(_sync_url(database_url))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER events_no_update_delete ON events"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("UPDATE events SET actor = 'user:mallory' WHERE seq = 2"))
    engine.dispose()

    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "BROKEN at seq 2" in broken.output


def test_config_show_masks_secrets(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MISSIONCTL_LLM_API_KEY", "sk-canary-789")
    result = run("config", "show", "--json")
    assert result.exit_code == 0
    assert "sk-canary-789" not in result.output
    assert json.loads(result.output)["llm"]["MISSIONCTL_LLM_API_KEY"] == "**********"
    table = run("config", "show")
    assert "sk-canary-789" not in table.output and "MISSIONCTL_HOME" in table.output


def test_db_upgrade_current_downgrade(run) -> None:  # type: ignore[no-untyped-def]
    head = head_revision()
    assert f"database at revision {head}" in run("db", "upgrade").output
    assert f"database: {head}" in run("db", "current").output
    assert "base (empty)" in run("db", "downgrade", "base", "--yes").output
    assert "database: empty" in run("db", "current").output


def test_prices_show_and_set(run) -> None:  # type: ignore[no-untyped-def]
    bundled = run("prices", "show", "gpt-4o-mini")
    assert bundled.exit_code == 0 and "genai-prices" in bundled.output
    changed = run("prices", "set", "gpt-4o-mini", "--input", "0.2", "--output", "0.8")
    assert changed.exit_code == 0 and "override" in changed.output and "$0.8" in changed.output
    refused = run("prices", "set", "gpt-4o-mini", "--input", "-1", "--output", "0.8")
    assert refused.exit_code == 2 and "--input" in refused.output
    assert run("prices", "show", "no-such-model").exit_code == 1
