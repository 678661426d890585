"""Fixtures of the demo history's tests (``demo_settings``, with the anomalies, is shared by
every suite and lives in ``tests/conftest.py``)."""

import pytest

from missionctl.settings import Settings
from tests.support.demo import shared_demo_home


@pytest.fixture(scope="session")
def plain_demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A SQLite home holding the demo history without its anomalies (seed 42, ``SHARED_DAYS``)."""
    return shared_demo_home(tmp_path_factory, anomalies=False)
