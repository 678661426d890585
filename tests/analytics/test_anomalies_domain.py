"""The anomaly detector on simulated histories (pure): the failures a product leader must hear
about are flagged with the right severity, and ordinary noise, a quiet Sunday, a small product
and an empty history flag nothing.

The seeds are fixed histories. With 5-20 runs a day and cohorts of a few people, no threshold
separates every noisy history from every injected one: how often noise alone alerts, and how
often each injection is caught with its severity, over hundreds of histories, is what
``bench/anomalies.py`` measures (the figures are in ADR 0069).
"""

import json
from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

import pytest
from pydantic import ValidationError

from missionctl.domain.anomalies import (
    Anomaly,
    Cohorts,
    DayFigures,
    detect,
    weekday_factors,
)
from missionctl.domain.webhooks import Format, body
from missionctl.schemas.analytics import AnomalyRule
from missionctl.services.anomalies import detector_rules
from tests.analytics import history
from tests.analytics.history import AS_OF, Injection

RULES, SETTINGS = detector_rules()
NO_COHORTS = Cohorts()
CLEAN = Injection()
SEEDS = (3, 4, 8, 11, 12, 13)


def _detect(
    days: dict[date, DayFigures], cohorts: Cohorts = NO_COHORTS, as_of: date = AS_OF
) -> list[Anomaly]:
    start = min(days) if days else None
    return detect(days, cohorts, as_of=as_of, history_start=start, rules=RULES, settings=SETTINGS)


def _found(seed: int, injection: Injection = CLEAN, as_of: date = AS_OF) -> list[Anomaly]:
    return _detect(
        history.days(seed, as_of=as_of, injection=injection),
        history.cohorts(seed, as_of=as_of, injection=injection),
        as_of,
    )


def _one(found: list[Anomaly], metric: str, comparison: str) -> Anomaly:
    [anomaly] = [a for a in found if a.metric == metric and a.comparison == comparison]
    return anomaly


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("offset", range(7))
def test_an_ordinary_noisy_history_flags_nothing(seed: int, offset: int) -> None:
    as_of = AS_OF + timedelta(days=offset)  # every weekday as the day judged
    assert _found(seed, as_of=as_of) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_success_falling_to_65_percent_over_ten_days_is_critical(seed: int) -> None:
    found = _found(seed, Injection(success_rate=0.65))
    drop = _one(found, "success_rate", "week_over_week")
    assert drop.severity == "critical" and drop.direction == "down"
    assert drop.current_window.until == AS_OF and drop.baseline_window.until == AS_OF - timedelta(7)
    assert drop.key == f"success_rate:week_over_week:{AS_OF}"
    assert drop.explanation.startswith("Run success rate fell from ")
    assert "in the 7 days to 15 Nov" in drop.explanation and "to 22 Nov." in drop.explanation
    assert "fewer completed runs a week" in drop.impact
    assert found[0] == drop  # the most severe first
    assert {a.metric for a in found} == {"success_rate"}


@pytest.mark.parametrize("seed", SEEDS)
def test_cost_tripled_over_three_days_is_critical_today_and_a_warning_week_over_week(
    seed: int,
) -> None:
    found = _found(seed, Injection(cost_factor=3.0))
    day = _one(found, "cost_usd", "day_vs_median")
    week = _one(found, "cost_usd", "week_over_week")
    assert day.severity == "critical" and day.direction == "up"
    assert week.severity in ("warning", "critical")
    assert day.explanation.startswith("Cost was $") and "for a Sunday" in day.explanation
    assert "more spend a week at this rate" in day.impact and day.impact.startswith("$")
    assert {a.metric for a in found} == {"cost_usd"}


@pytest.mark.parametrize("seed", SEEDS)
def test_cohorts_returning_half_as_often_are_a_warning(seed: int) -> None:
    found = _found(seed, Injection(retention_factor=0.5))
    cohorts = [a for a in found if a.comparison == "cohort_vs_prior"]
    assert cohorts and {a.severity for a in cohorts} == {"warning"}
    injected = {AS_OF - timedelta(days=AS_OF.weekday(), weeks=n) for n in (3, 4)}
    assert {a.current_window.since for a in cohorts} <= injected
    for anomaly in cohorts:
        assert anomaly.key == f"retention:cohort_vs_prior:{anomaly.current_window.since}"
        assert anomaly.direction == "down" and anomaly.unit == "ratio"
        assert "did not come back" in anomaly.impact
    assert {a.metric for a in found} == {"retention"}


def test_severity_orders_the_answer_then_metric_then_comparison() -> None:
    both = Injection(success_rate=0.65, cost_factor=3.0, retention_factor=0.5)
    found = _found(0, both)
    ranks = [("critical", "warning", "info").index(a.severity) for a in found]
    assert ranks == sorted(ranks)
    for left, right in pairwise(found):
        if left.severity == right.severity:
            assert left.metric <= right.metric


def _steady(as_of: date, weeks: int = 10) -> dict[date, DayFigures]:
    """A perfectly regular week: busy weekdays, quiet Saturdays, very quiet Sundays."""
    figures = {}
    for back in range(weeks * 7):
        day = as_of - timedelta(days=back)
        load = history.WEEKDAY_LOAD[day.weekday()]
        runs = round(16 * load)
        figures[day] = DayFigures(
            active_users=round(30 * load),
            missions_created=round(4 * load),
            runs_started=runs,
            runs_ended=runs,
            runs_completed=round(runs * 0.9),
            cost_usd=8.0 * load,
            tokens=round(200_000 * load),
            duration_p95_s=300.0,
        )
    return figures


def test_a_quiet_sunday_of_a_steady_weekly_pattern_is_not_flagged() -> None:
    sunday = AS_OF
    assert sunday.weekday() == 6
    figures = _steady(sunday)
    assert _detect(figures, as_of=sunday) == []
    factors = weekday_factors(figures, "cost_usd", as_of=sunday, history_start=min(figures))
    assert factors[6] < 0.5 < 1 < factors[1]
    # Unadjusted, the Sunday would be far below the 14-day median. A Sunday that costs what a
    # weekday does is unusual for a Sunday, and flagged.
    spent = dict(figures)
    spent[sunday] = replace(figures[sunday], cost_usd=figures[sunday - timedelta(days=4)].cost_usd)
    [flagged] = _detect(spent, as_of=sunday)
    assert (flagged.metric, flagged.comparison, flagged.severity) == (
        "cost_usd",
        "day_vs_median",
        "critical",
    )
    assert "expected for a Sunday" in flagged.explanation


def test_a_weekday_that_is_always_empty_is_expected_to_be_empty() -> None:
    figures = {d: f for d, f in _steady(AS_OF).items() if d.weekday() != 6}
    factors = weekday_factors(figures, "cost_usd", as_of=AS_OF, history_start=min(figures))
    assert factors[6] == 0
    assert _detect(figures, as_of=AS_OF) == []


def test_too_little_history_gives_factor_one() -> None:
    figures = _steady(AS_OF, weeks=2)
    factors = weekday_factors(figures, "cost_usd", as_of=AS_OF, history_start=min(figures))
    assert set(factors.values()) == {1.0}


def test_small_volumes_are_not_flagged() -> None:
    """A product a twentieth the size: the same relative swings, too little behind them."""
    both = Injection(success_rate=0.3, cost_factor=3.0)
    tiny = history.scaled(history.days(1, injection=both), 0.05)
    assert _detect(tiny) == []
    # One run a day becoming two is +100 %, and still nothing.
    single = {AS_OF - timedelta(days=n): DayFigures(runs_started=1) for n in range(1, 60)}
    single[AS_OF] = DayFigures(runs_started=2)
    assert _detect(single) == []


def test_an_empty_history_flags_nothing() -> None:
    assert _detect({}) == []
    assert detect({}, Cohorts(), as_of=AS_OF, history_start=AS_OF, rules=RULES) == []


def test_a_missing_day_counts_as_zero_activity() -> None:
    """A day without any figures is a day when nothing happened, not a gap to skip."""
    friday = AS_OF + timedelta(days=5)
    figures = history.days(3, as_of=friday)
    assert _detect(figures, as_of=friday) == []
    silent = figures
    for n in range(3):  # Wednesday to Friday: no row at all
        silent = history.without(silent, friday - timedelta(days=n))
    found = _detect(silent, as_of=friday)
    runs = _one(found, "runs_started", "week_over_week")
    kept = sum(figures[friday - timedelta(days=n)].runs_started for n in range(3, 7))
    assert runs.current == kept and runs.direction == "down"
    assert runs.severity in ("warning", "critical")
    active = _one(found, "active_users", "week_over_week")
    assert active.current == round(
        sum(figures[friday - timedelta(days=n)].active_users for n in range(3, 7)) / 7, 4
    )
    cost = _one(found, "cost_usd", "day_vs_median")
    assert cost.current == 0 and cost.direction == "down" and cost.severity == "info"


def test_days_before_the_history_began_are_no_data() -> None:
    """A product two days old has no week before to compare with, and no median."""
    figures = {AS_OF - timedelta(days=1): DayFigures(runs_started=10, cost_usd=5.0)}
    figures[AS_OF] = DayFigures(runs_started=40, cost_usd=50.0)
    assert _detect(figures) == []


def test_a_webhook_says_the_anomaly_in_one_line() -> None:
    drop = _one(_found(3, Injection(success_rate=0.65)), "success_rate", "week_over_week")
    payload = {
        "key": drop.key,
        "severity": drop.severity,
        "label": drop.label,
        "explanation": drop.explanation,
        "impact": drop.impact,
    }
    event = {"type": "analytics.anomaly_detected", "seq": 9, "ts": "t", "actor": "system"}
    slack = json.loads(body({**event, "payload": payload}, workflow=None, form=Format.slack))
    assert slack["text"] == (
        f":rotating_light: Mission Control: critical anomaly: {drop.explanation} "
        f"Impact: {drop.impact}."
    )
    plain = json.loads(body({**event, "payload": payload}, workflow=None, form=Format.json))
    assert plain["payload"] == payload and plain["type"] == "analytics.anomaly_detected"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"thresholds": {"week_over_week": {"info": 30, "warning": 20, "critical": 50}}}, "rise"),
        ({"key": "retention"}, "cohort_vs_prior only"),
        ({"key": "happiness"}, "key must be retention or a trend"),
        ({"thresholds": {"cohort_vs_prior": {"info": 1, "warning": 2, "critical": 3}}}, "only"),
        ({"min_delta": 0}, "greater than 0"),
        ({"bad": []}, "at least 1"),
    ],
)
def test_a_broken_rule_in_the_definitions_is_refused_naming_the_fix(
    change: dict[str, object], message: str
) -> None:
    good = {
        "key": "cost_usd",
        "bad": ["up"],
        "noun": "spend",
        "min_delta": 1,
        "min_volume": 1,
        "thresholds": {"week_over_week": {"info": 10, "warning": 20, "critical": 30}},
    }
    AnomalyRule.model_validate(good)
    with pytest.raises(ValidationError, match=message):
        AnomalyRule.model_validate({**good, **change})
