"""``missionctl demo seed``: writes a history into an empty home, refuses anything else."""

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.errors import Conflict
from missionctl.services import open_context
from missionctl.services.usecases.demo import DemoClaim, claim_empty_log, reset_demo
from missionctl.settings import AuditSettings, Settings
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


@SEEDING
async def test_reset_empties_a_demo_history_so_that_a_new_one_can_be_written(
    cli_seeded: CliSeeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSIONCTL_DATABASE_URL", raising=False)  # the home's own SQLite
    home = cli_seeded.copy
    settings = Settings(home=home)
    for kept in ("checkpoints", "blobs", "reports"):
        (home / kept).mkdir(exist_ok=True)
        (home / kept / "old").write_text("of the old history")

    emptied = await reset_demo(settings)

    assert emptied > 1000  # the 28 days' events
    assert not [kept for kept in ("checkpoints", "blobs", "reports") if (home / kept).exists()]
    async with open_context(settings) as ctx:
        # An empty log at the newest schema: a new history may claim it.
        claim = DemoClaim(date(2026, 1, 1), date(2026, 1, 28), seed=3, anomalies=False)
        await claim_empty_log(ctx, claim=claim)


def test_reset_refuses_a_database_that_is_not_a_demo_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISSIONCTL_DATABASE_URL", raising=False)
    home = tmp_path / "real"
    monkeypatch.setenv("MISSIONCTL_HOME", str(home))
    assert _invoke("mission", "create", "Keep the lighthouse keepers' rota").exit_code == 0
    for args in (["--home", str(home)], []):  # named, and found from the environment
        refused = _invoke("demo", "seed", "--days", "28", "--reset", *args)
        assert refused.exit_code == 2, refused.output
        said = " ".join(refused.output.split())
        assert "not a demo history's 'demo.seeded'" in said and "left as it was" in said
        assert "Traceback" not in refused.output
    [mission] = json.loads(_invoke("mission", "list", "--json").output)["items"]
    assert mission["goal"] == "Keep the lighthouse keepers' rota"


async def test_reset_leaves_checkpoints_kept_outside_the_home_and_refuses(tmp_path: Path) -> None:
    outside = tmp_path / "vault"
    outside.mkdir()
    settings = Settings(home=tmp_path / "home", audit=AuditSettings(checkpoint_dir=outside))
    with pytest.raises(Conflict, match="outside the data directory"):
        await reset_demo(settings)
    assert outside.is_dir()
