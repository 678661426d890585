"""Fixtures of the CLI tests."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from missionctl.cli import app
from missionctl.settings import DatabaseSettings, EngineSettings, Settings
from tests.conftest import POSTGRES_URL_VAR, postgres_base_url


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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings on an empty database of each backend, shared by a module's tests.

    For modules that serve one live server per database (starting one per test would cost
    seconds each); like ``database_url``, PostgreSQL gets a schema of its own.
    """
    home = tmp_path_factory.mktemp(f"module-{request.param}") / "home"
    engine = EngineSettings(poll_s=0.05, heartbeat_s=0.2, lease_s=5.0)
    if request.param == "sqlite":
        url = SecretStr(f"sqlite+aiosqlite:///{home.parent / 'test.db'}")
        yield Settings(home=home, database=DatabaseSettings(url=url), engine=engine)
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # with the variable set, an unreachable server is a failure
        admin.dispose()
        pytest.fail(f"{POSTGRES_URL_VAR} is set but PostgreSQL is unreachable: {exc}")
    separator = "&" if "?" in base else "?"
    url = SecretStr(f"{base}{separator}options=-csearch_path%3D{schema}")
    try:
        yield Settings(home=home, database=DatabaseSettings(url=url), engine=engine)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
