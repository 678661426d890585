"""Fixtures of the demo history's tests (``demo_settings``, with the anomalies, is shared by
every suite and lives in ``tests/conftest.py``)."""

import pytest

from missionctl.settings import Settings
from tests.support.demo import CliSeeded, cli_seeded_home, shared_demo_home


@pytest.fixture(scope="session")
def plain_demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A SQLite home holding the demo history without its anomalies (seed 42, ``SHARED_DAYS``)."""
    return shared_demo_home(tmp_path_factory, anomalies=False)


@pytest.fixture
def cli_seeded(tmp_path_factory: pytest.TempPathFactory) -> CliSeeded:
    """``missionctl demo seed --days 28 --seed 7`` into a new SQLite home, run once per session,
    and a copy of that home for this test to change."""
    return cli_seeded_home(tmp_path_factory)
