"""``missionctl agents allow-repository`` / ``disallow-repository`` on the local database."""

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.settings import Settings

Invoke = Callable[..., Result]


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``missionctl`` in-process on the test's database (the one ``settings`` names)."""
    monkeypatch.setenv("MISSIONCTL_HOME", str(settings.home))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", settings.database.url.get_secret_value())
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def test_allow_and_disallow_change_the_repositories_and_list_shows_them(cli: Invoke) -> None:
    def listed() -> list[str]:
        agents = {a["name"]: a for a in json.loads(cli("agents", "list", "--json").output)}
        repositories: list[str] = agents["coding:*"]["allowed_repositories"]
        return repositories

    empty = cli("agents", "list")
    words = " ".join(empty.output.split())  # the console wraps long lines
    assert empty.exit_code == 0 and "missionctl agents allow-repository SOURCE" in words
    assert cli("agents", "allow-repository", "/srv/repos/").exit_code == 0
    twice = cli("agents", "allow-repository", "https://git.example.com/team")
    assert twice.exit_code == 0 and "https://git.example.com/team" in twice.output
    assert cli("agents", "allow-repository", "/srv/repos").exit_code == 0
    assert listed() == ["/srv/repos", "https://git.example.com/team"]
    bad = cli("agents", "allow-repository", "/srv/../etc")
    assert bad.exit_code == 2 and "'..'" in bad.output
    assert cli("agents", "disallow-repository", "/srv/repos").exit_code == 0
    assert listed() == ["https://git.example.com/team"]
