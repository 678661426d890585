"""Coding tests run with the scripted coder as an admin's preset (``coding:scripted``).

The approval rule judges a coding step by its preset's command line, which it reads from the
presets the settings name, as the engine's agents do.
"""

from pathlib import Path

import pytest

from missionctl.settings import CodingSettings, Settings
from tests.coding.helpers import scripted_presets


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The suite's settings, with the scripted coder in the coding presets file."""
    presets = scripted_presets(tmp_path)
    return settings.model_copy(update={"coding": CodingSettings(presets_file=presets)})
