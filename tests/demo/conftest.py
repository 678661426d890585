"""Fixtures of the demo history's tests, and a seeded home for others to share."""

import pytest

from missionctl.settings import Settings
from tests.support.demo import seed_home


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A SQLite home holding the 35-day demo history (seed 42, anomalies), made once."""
    return seed_home(tmp_path_factory.mktemp("demo") / "home")
