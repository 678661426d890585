"""The demo history's plan: deterministic, at the brief's volumes, with its injections."""

from collections import Counter
from datetime import date, timedelta

import pytest

from missionctl.demo.history import check_days, counted, plan_history
from missionctl.demo.parameters import PARAMETERS

TODAY = date(2026, 3, 4)


def test_the_same_arguments_plan_the_same_history() -> None:
    first = plan_history(PARAMETERS, days=90, seed=42, anomalies=True, today=TODAY)
    again = plan_history(PARAMETERS, days=90, seed=42, anomalies=True, today=TODAY)
    other = plan_history(PARAMETERS, days=90, seed=43, anomalies=True, today=TODAY)
    assert first == again
    assert first.sessions != other.sessions


def test_ninety_days_hold_the_volumes_a_cockpit_needs() -> None:
    history = plan_history(PARAMETERS, days=90, seed=42, anomalies=True, today=TODAY)
    people = counted(history.people)
    assert 150 <= len(people) <= 230
    assert {p.role.value for p in people} == {"viewer", "operator", "approver", "admin"}
    assert len(history.people) - len(people) == len(PARAMETERS.people.test_users)
    runs = Counter()
    for session in history.sessions:
        if session.person in {p.name for p in people}:
            runs[session.at.date()] += len(session.runs)
    days = [history.first_day + timedelta(days=n) for n in range(90)]
    assert all(5 <= runs[day] <= 20 for day in days), sorted(runs.values())
    weekdays = [runs[d] for d in days if d.weekday() < 5]
    weekends = [runs[d] for d in days if d.weekday() >= 5]
    assert sum(weekdays) / len(weekdays) > 1.3 * sum(weekends) / len(weekends)
    assert history.last_day == TODAY - timedelta(days=1)
    assert all(history.first_day <= s.at.date() <= history.last_day for s in history.sessions)


def test_runs_take_tens_of_seconds_to_tens_of_minutes() -> None:
    history = plan_history(PARAMETERS, days=90, seed=42, anomalies=False, today=TODAY)
    durations = [sum(c.seconds for c in run.calls) for s in history.sessions for run in s.runs]
    assert min(durations) >= 20 and max(durations) <= 45 * 60
    assert max(durations) >= 15 * 60


def test_the_anomalies_change_outcomes_not_the_people_or_the_days() -> None:
    plain = plan_history(PARAMETERS, days=60, seed=7, anomalies=False, today=TODAY)
    injected = plan_history(PARAMETERS, days=60, seed=7, anomalies=True, today=TODAY)
    assert plain.people == injected.people
    assert plain.injections == ()
    assert [i.name for i in injected.injections] == [
        "run_success_drop",
        "cost_spike",
        "retention_dip",
    ]
    drop, spike, dip = injected.injections
    assert (drop.since, drop.until) == (TODAY - timedelta(days=10), TODAY - timedelta(days=1))
    assert (spike.since, spike.until) == (TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert dip.since.weekday() == 0 and (dip.until - dip.since).days == 13


@pytest.mark.parametrize("days", [0, 27, 367, -5, 10**9])
def test_a_length_outside_the_range_is_refused_naming_it(days: int) -> None:
    with pytest.raises(ValueError, match="days must be between 28 and 366"):
        check_days(days)
