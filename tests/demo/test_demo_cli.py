"""``missionctl demo seed``: writes a history into an empty home, refuses anything else."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from missionctl.cli import app
from tests.support.demo import SEEDING, CliSeeded


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@SEEDING
def test_a_seed_into_a_new_home_prints_what_it_wrote_and_how_to_look(
    cli_seeded: CliSeeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite, as a demo home is made (tests/demo/test_seed.py seeds PostgreSQL with the same
    arguments and compares the facts with this home's).

    ``cli_seeded`` ran ``demo seed --days 28 --seed 7 --home new/home`` from a folder of its
    own, once for the session; what follows the seed runs on this test's copy of the home.
    """
    monkeypatch.delenv("MISSIONCTL_DATABASE_URL", raising=False)  # the home's own SQLite
    monkeypatch.chdir(tmp_path)  # the commands below find no home but the one they are given
    assert cli_seeded.exit_code == 0, cli_seeded.output
    output = cli_seeded.output
    assert "wrote 28 days of history" in output
    for expected in ("people", "runs", "run_success_drop", "cost_spike", "retention_dip"):
        assert expected in output
    assert "missionctl serve" in output and "/insights" in output
    assert "missionctl analytics trends" in output
    assert cli_seeded.home.is_dir()
    assert not (cli_seeded.folder / ".missionctl").exists()  # --home is the only directory made
    home = cli_seeded.copy
    # The home now holds a history: a second seed is refused, and says why.
    again = _invoke("demo", "seed", "--days", "28", "--home", str(home))
    assert again.exit_code == 2
    assert "already holds" in again.output and "empty database only" in again.output
    monkeypatch.setenv("MISSIONCTL_HOME", str(home))
    verified = _invoke("audit", "verify")
    assert verified.output.startswith("OK"), verified.output
    # The command it names for signing in to look gives a link for one of the history's admins.
    [named] = re.findall(r"missionctl login-link (\S+)", output)
    assert "/sign-in?token=" in _invoke("login-link", named).output
    roles = {
        user["name"]: user["role"] for user in json.loads(_invoke("user", "list", "--json").output)
    }
    assert roles[named] == "admin"


@pytest.mark.parametrize("days", ["27", "367", "-1", "99999999999999999999", "ninety", ""])
def test_a_bad_length_is_refused_naming_the_option_and_writing_nothing(
    days: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = _invoke("demo", "seed", "--days", days, "--home", str(home))
    assert result.exit_code == 2
    assert "--days" in result.output
    assert not home.exists()


def test_a_home_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("not a directory")
    result = _invoke("demo", "seed", "--days", "28", "--home", str(target))
    assert result.exit_code == 2
    assert "--home" in result.output
    assert target.read_text() == "not a directory"
