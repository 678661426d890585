"""Fixtures of the CLI tests."""

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``cli(*args)`` runs ``missionctl`` in-process on each database, with a fast engine.

    The home is fresh per test; the engine polls every 50 ms and renews leases every 200 ms.
    """
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    monkeypatch.setenv("MISSIONCTL_ENGINE_POLL_S", "0.05")
    monkeypatch.setenv("MISSIONCTL_ENGINE_HEARTBEAT_S", "0.2")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke
