"""Every analytics test runs on a standing clock (``pinned_day``): its figures are per UTC day."""

import pytest


@pytest.fixture(autouse=True)
def _one_utc_day(pinned_day: object) -> None:
    """Hold the application clock on ``PINNED_DAY`` for the test."""
