"""The moved clock: off by default, only forward, one at a time."""

from datetime import UTC, datetime, timedelta

import pytest

from missionctl.db.clock import CLOCK, MovedClock, moved_clock
from missionctl.db.types import utcnow
from missionctl.errors import Conflict

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def test_by_default_the_application_clock_is_the_machines() -> None:
    assert CLOCK.moved is None
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_moved_clock_dates_utcnow_while_installed_and_only_moves_forward() -> None:
    with moved_clock(START) as clock:
        assert utcnow() == START
        clock.advance(90)
        assert utcnow() == START + timedelta(seconds=90)
        clock.move_to(START)  # earlier: stays
        clock.advance(-30)  # backwards: stays
        assert utcnow() == START + timedelta(seconds=90)
    assert CLOCK.moved is None
    assert utcnow() > START


def test_only_one_clock_is_moved_at_a_time() -> None:
    with (
        moved_clock(START),
        pytest.raises(Conflict, match="another dated history"),
        moved_clock(START),
    ):
        pass
    assert CLOCK.moved is None


def test_a_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        MovedClock(datetime(2026, 1, 5))
