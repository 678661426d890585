"""Schedules' pure rules: expressions, zones, DST-correct ticks, due and missed ticks."""

from datetime import UTC, datetime, timedelta

import pytest

from missionctl.domain.schedules import (
    MAX_COUNTED_MISSES,
    MISFIRE_GRACE,
    Cron,
    cron_problem,
    due_ticks,
    success_rate,
    zone_problem,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression", ["* * * * *", "*/15 9-17 * * MON-FRI", "0 0 1 1 *", "@daily", "@HOURLY"]
)
def test_five_fields_and_macros_are_accepted(expression: str) -> None:
    assert cron_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("* * * * * *", "6 field(s)"),  # a seconds field
        ("* * * *", "4 field(s)"),
        ("", "0 field(s)"),
        ("61 * * * *", "not a valid cron expression"),
        ("* * 32 * *", "not a valid cron expression"),
        ("@sometimes", "1 field(s)"),
        ("a b c d e", "not a valid cron expression"),
    ],
)
def test_bad_expressions_say_how_to_write_one(expression: str, words: str) -> None:
    problem = cron_problem(expression)
    assert problem is not None and words in problem


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", "/abs", "UTC\x00"])
def test_unknown_zones_are_refused(zone: str) -> None:
    assert zone_problem(zone) is not None


def test_a_daily_tick_keeps_its_wall_clock_time_across_dst() -> None:
    paris = Cron("0 9 * * *", "Europe/Paris")
    # Before the spring change 09:00 is 08:00 UTC; after it 07:00 UTC.
    assert paris.next_after(utc(2026, 3, 28, 9, 0)) == utc(2026, 3, 29, 7, 0)
    assert paris.next_after(utc(2026, 3, 27, 9, 0)) == utc(2026, 3, 28, 8, 0)
    # After the autumn change, 08:00 UTC again.
    assert paris.next_after(utc(2026, 10, 25, 6, 0)) == utc(2026, 10, 25, 8, 0)


def test_a_time_that_happens_twice_fires_once_unless_the_hour_is_wild() -> None:
    daily = Cron("30 2 * * *", "Europe/Paris")
    first = daily.next_after(utc(2026, 10, 24, 12, 0))
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 summer time
    assert daily.next_after(first) == utc(2026, 10, 26, 1, 30)  # not 02:30 winter time
    hourly = Cron("0 * * * *", "Europe/Paris")
    ticks = [utc(2026, 10, 24, 23, 0)]
    for _ in range(3):
        ticks.append(hourly.next_after(ticks[-1]))
    # Every real hour, through the repeated one.
    assert [t.hour for t in ticks] == [23, 0, 1, 2]


def test_a_time_that_does_not_exist_fires_after_the_gap() -> None:
    daily = Cron("30 2 * * *", "Europe/Paris")
    # 02:30 does not exist on 29 March 2026 in Paris: 03:00 summer time (01:00 UTC) instead.
    assert daily.next_after(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)


def test_a_cron_refuses_bad_parts() -> None:
    with pytest.raises(ValueError, match="cron expression"):
        Cron("nope", "UTC")
    with pytest.raises(ValueError, match="time zone"):
        Cron("* * * * *", "Nowhere/City")


def test_nothing_is_due_before_the_tick() -> None:
    cron = Cron("* * * * *", "UTC")
    due = due_ticks(cron, utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 0, 59))
    assert (due.on_time, due.missed, due.next_fire_at) == (None, 0, utc(2026, 1, 1, 0, 1))


def test_the_newest_tick_within_the_grace_is_on_time_and_older_ones_missed() -> None:
    cron = Cron("* * * * *", "UTC")
    start = utc(2026, 1, 1, 0, 1)
    on_time = due_ticks(cron, start, start + MISFIRE_GRACE)
    assert (on_time.on_time, on_time.missed) == (start, 0)
    late = due_ticks(cron, start, start + timedelta(minutes=3, seconds=10))
    assert late.on_time == utc(2026, 1, 1, 0, 4)
    assert (late.missed, late.first_missed, late.last_missed) == (3, start, utc(2026, 1, 1, 0, 3))
    assert late.next_fire_at == utc(2026, 1, 1, 0, 5)
    gone = due_ticks(cron, start, start + timedelta(minutes=3, seconds=45))
    assert (gone.on_time, gone.missed, gone.last_missed) == (None, 4, utc(2026, 1, 1, 0, 4))


def test_a_year_long_pause_counts_up_to_the_limit_and_still_finds_the_newest_tick() -> None:
    cron = Cron("* * * * *", "UTC")
    start = utc(2026, 1, 1, 0, 1)
    now = utc(2027, 1, 1, 0, 0, 45)
    due = due_ticks(cron, start, now)
    assert due.missed >= MAX_COUNTED_MISSES and due.on_time is None
    assert due.last_missed == utc(2027, 1, 1, 0, 0)
    assert due.next_fire_at == utc(2027, 1, 1, 0, 1)


def test_success_rate() -> None:
    assert success_rate(0, 0) is None
    assert success_rate(3, 4) == 0.75
