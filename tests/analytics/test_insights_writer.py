"""The deterministic insights writer on hand-made facts: what it tells first, the actions it
suggests for the metric that moved, an honest empty range, and the phrasebook's checks."""

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from missionctl.domain.insights import (
    HEADLINE_UNITS,
    AnomalyFact,
    CohortReturns,
    DayFigures,
    InsightFacts,
    Window,
    WrittenInsights,
    funnel_shift,
    retention_shift,
    trend_totals,
    write_insights,
)
from missionctl.schemas.analytics import AnomalyItem, load_definitions
from missionctl.schemas.datafiles import DataFileError, read_data_file
from missionctl.schemas.insights import PhrasebookFile, load_phrasebook
from missionctl.services.usecases.insights import _anomaly_fact

RANGE = Window(date(2026, 11, 1), date(2026, 11, 30))
WEEK = Window(date(2026, 11, 24), date(2026, 11, 30))
WEEK_BEFORE = Window(date(2026, 11, 17), date(2026, 11, 23))
STEPS = [(step.key, step.label) for step in load_definitions().funnel.steps]
LABELS = {key: load_phrasebook().metric(key).label for key in HEADLINE_UNITS}


def _anomaly(
    metric: str,
    label: str,
    unit: str,
    severity: str,
    current: float,
    baseline: float,
    *,
    windows: tuple[Window, Window] = (WEEK, WEEK_BEFORE),
) -> AnomalyFact:
    """An anomaly as the detector answers it, reduced to the facts the writers see."""
    delta = current - baseline
    now, before = windows
    item = AnomalyItem.model_validate(
        {
            "key": f"{metric}:week_over_week:{now.since}",
            "metric": metric,
            "label": label,
            "unit": unit,
            "comparison": "week_over_week",
            "current_window": {"since": now.since, "until": now.until},
            "baseline_window": {"since": before.since, "until": before.until},
            "current": current,
            "baseline": baseline,
            "delta": delta,
            "change_pct": round(delta / baseline * 100, 1),
            "direction": "up" if delta > 0 else "down",
            "severity": severity,
            "impact": "alice.secret's runs fail",  # prose stays out of the facts
            "explanation": "Project Nightingale failed",
        }
    )
    return _anomaly_fact(item)


def _days(count: int, **figures: Any) -> list[DayFigures]:
    base: dict[str, Any] = {"active_users": 4, "runs_started": 10, "runs_ended": 10}
    values = {**base, "success_rate": 0.9, "cost_usd": 1.0, "tokens": 1000, **figures}
    return [DayFigures(**values) for _ in range(count)]


def _facts(
    *,
    funnel_now: list[int] | None = None,
    funnel_before: list[int] | None = None,
    retention_now: CohortReturns | None = None,
    retention_before: CohortReturns | None = None,
    days_now: list[DayFigures] | None = None,
    days_before: list[DayFigures] | None = None,
    anomalies: tuple[AnomalyFact, ...] = (),
    settled: bool = True,
) -> InsightFacts:
    steady = [20, 16, 14, 12, 10, 4]
    return InsightFacts(
        window=RANGE,
        segment=None,
        funnel=funnel_shift(
            STEPS, [funnel_now or steady], [funnel_before or steady], settled=settled
        ),
        retention=retention_shift(
            [1, 4],
            [retention_now or CohortReturns(10, [(1, 5, True), (4, 3, True)])],
            [retention_before or CohortReturns(10, [(1, 5, True), (4, 3, True)])],
        ),
        totals=trend_totals(days_now or _days(30), days_before or _days(30), LABELS),
        anomalies=anomalies,
    )


def _all(written: WrittenInsights) -> list[str]:
    return [
        *written.what_changed,
        *written.why_it_matters,
        *written.suggested_actions,
        *written.questions_to_investigate,
    ]


def _sentences(text: str) -> int:
    return len(re.findall(r"[.?!](?:\s|$)", text))


def test_a_critical_success_drop_leads_and_a_cost_spike_follows_with_actions_for_each() -> None:
    cost = _anomaly("cost_usd", "Cost", "usd", "warning", 45.0, 24.0)
    success = _anomaly("success_rate", "Success rate", "ratio", "critical", 0.61, 0.92)
    written = write_insights(_facts(anomalies=(cost, success)), load_phrasebook())

    assert written.summary.startswith("Critical: Success rate fell from 92%")
    assert "2026-11-24 to 2026-11-30" in written.summary
    assert 2 <= _sentences(written.summary) <= 4
    changed = written.what_changed
    assert changed[0].startswith("Critical: Success rate fell from 92% (2026-11-17 to 2026-11-23)")
    assert "31 points down" in changed[0]
    assert changed[1] == (
        "Warning: Cost rose from $24.00 (2026-11-17 to 2026-11-23) to $45.00 "
        "(2026-11-24 to 2026-11-30), up 88%."
    )
    actions = written.suggested_actions
    assert "in Runs, filtered by status failed, and group them by the failing step" in actions[0]
    assert "2026-11-24 to 2026-11-30" in actions[0]
    assert "costs by model on the Costs page" in actions[1] and "budget caps" in actions[1]
    for section in (changed, written.why_it_matters, actions, written.questions_to_investigate):
        assert 1 <= len(section) <= 5
    # The anomalies' prose never reaches the writers: only their figures do.
    assert not any("alice" in s or "Nightingale" in s for s in [written.summary, *_all(written)])


def test_a_metric_flagged_for_a_day_and_a_week_gets_its_action_once() -> None:
    yesterday = Window(WEEK.until, WEEK.until)
    day = _anomaly("cost_usd", "Cost", "usd", "critical", 10.0, 2.5, windows=(yesterday, WEEK))
    week = _anomaly("cost_usd", "Cost", "usd", "warning", 45.0, 24.0)
    written = write_insights(_facts(anomalies=(week, day)), load_phrasebook())
    assert [s.split(":")[0] for s in written.what_changed[:2]] == ["Critical", "Warning"]
    on_costs = [a for a in written.suggested_actions if "Costs page" in a]
    assert on_costs == [
        "Check costs by model on the Costs page for 2026-11-30, and the step budget caps of "
        "the workflows that spent most."
    ]
    assert len(written.why_it_matters) == len(set(written.why_it_matters)) == 1


def test_an_empty_history_says_so_without_a_single_made_up_figure() -> None:
    quiet = [DayFigures(0, 0, 0, None, 0.0, 0) for _ in range(30)]
    facts = InsightFacts(
        window=RANGE,
        segment=("role", "viewer"),
        funnel=funnel_shift(STEPS, [[0] * 6], [], settled=True),
        retention=retention_shift([1, 4], [], []),
        totals=trend_totals(quiet, quiet, LABELS),
    )
    assert facts.quiet
    written = write_insights(facts, load_phrasebook())
    assert written.summary.startswith("Not enough activity to write insights")
    assert "(segment role:viewer)" in written.summary
    for text in [written.summary, *_all(written)]:
        without_days = re.sub(r"\d{4}-\d{2}-\d{2}", "", text)
        assert not re.search(r"\d", without_days), text  # no number but the windows' days


def test_a_funnel_improvement_is_reported_as_one() -> None:
    facts = _facts(funnel_now=[20, 18, 16, 15, 14, 6], funnel_before=[20, 16, 14, 12, 8, 4])
    written = write_insights(facts, load_phrasebook())
    told = written.what_changed[0]
    assert told == (
        "Of the people who first signed in from 2026-11-01 to 2026-11-30, 70% reached “A run "
        "completed”, against 40% from 2026-10-02 to 2026-10-31: 30 points higher."
    )
    assert told in written.summary
    assert "More new people reach “A run completed”" in written.why_it_matters[0]
    assert "Note what changed for new people" in written.suggested_actions[0]
    assert not any("lower" in s or "Fewer" in s for s in _all(written))


def test_the_funnels_biggest_drop_and_a_retention_dip_come_in_that_order() -> None:
    facts = _facts(
        funnel_now=[20, 10, 9, 8, 6, 2],  # created a mission: 50% against 80%
        funnel_before=[20, 16, 14, 12, 10, 4],
        retention_now=CohortReturns(10, [(1, 2, True), (4, 1, False)]),
        retention_before=CohortReturns(10, [(1, 5, True), (4, 3, True)]),
        settled=False,
    )
    written = write_insights(facts, load_phrasebook())
    assert "50% reached “Created a mission”" in written.what_changed[0]
    assert "30 points lower" in written.what_changed[0]
    assert written.what_changed[1].startswith("Week-1 retention fell to 20%")
    # Week 4 of the range's cohorts has not ended: it is not compared.
    assert not any("Week-4" in s for s in written.what_changed)
    assert "first missions of the affected cohorts" in written.suggested_actions[1]
    assert any("still within their step windows" in q for q in written.questions_to_investigate)


def test_a_funnel_or_retention_share_of_fewer_than_ten_people_a_range_is_not_compared() -> None:
    """A range reaching back before the history began holds a handful of founders."""
    few = _facts(
        funnel_now=[20, 10, 9, 8, 6, 2],
        funnel_before=[9, 9, 9, 9, 9, 9],  # 100% at every step, but of nine people
        retention_now=CohortReturns(10, [(1, 2, True), (4, 1, True)]),
        retention_before=CohortReturns(9, [(1, 9, True), (4, 9, True)]),
    )
    quiet = write_insights(few, load_phrasebook())
    assert not any("reached" in s or "Week-" in s for s in _all(quiet)), _all(quiet)
    assert "wherever each range had enough people to compare" in quiet.what_changed[0]

    enough = _facts(
        funnel_now=[20, 10, 9, 8, 6, 2],
        funnel_before=[10, 10, 10, 10, 10, 10],
        retention_now=CohortReturns(10, [(1, 2, True), (4, 1, True)]),
        retention_before=CohortReturns(10, [(1, 10, True), (4, 10, True)]),
    )
    told = write_insights(enough, load_phrasebook()).what_changed
    assert "10% reached “Downloaded a report or made a second mission”, against 100%" in told[0]
    assert told[1].startswith("Week-1 retention fell to 20%")


def test_a_success_rate_of_fewer_than_twenty_ended_runs_a_range_is_not_compared() -> None:
    failing = _days(30, success_rate=0.5)
    two_runs = _days(1, success_rate=1.0, runs_started=2, runs_ended=2) + _days(
        29, success_rate=None, runs_started=0, runs_ended=0
    )
    quiet = write_insights(_facts(days_now=failing, days_before=two_runs), load_phrasebook())
    assert not any("Success rate fell" in s for s in _all(quiet)), _all(quiet)
    # The figures themselves are still listed among the range's totals.
    assert "success rate: 50% (100% before)" in quiet.summary

    twenty_runs = _days(2, success_rate=1.0, runs_ended=10) + _days(
        28, success_rate=None, runs_started=0, runs_ended=0
    )
    told = write_insights(_facts(days_now=failing, days_before=twenty_runs), load_phrasebook())
    assert "Success rate fell from 100%" in told.summary


def test_totals_against_a_range_before_with_fewer_than_twenty_runs_are_not_compared() -> None:
    busy = _days(30, runs_started=100, cost_usd=60.0)
    three_runs = _days(1, runs_started=3, runs_ended=3, cost_usd=0.5) + _days(
        29, runs_started=0, runs_ended=0, success_rate=None, cost_usd=0.0, active_users=0
    )
    thin = write_insights(_facts(days_now=busy, days_before=three_runs), load_phrasebook())
    assert thin.what_changed == (
        "The range before (2026-10-02 to 2026-10-31) holds 3 runs against 3,000 from "
        "2026-11-01 to 2026-11-30: too few to compare cost, runs started, tokens and average "
        "daily active people with.",
    )
    assert "Cost rose" not in thin.summary and "%" not in thin.what_changed[0]
    assert "the work began, not how it changed" in thin.why_it_matters[0]
    assert "cost: $1,800.00 ($0.50 before)" in thin.summary  # the figures are still listed

    twenty = _days(2, runs_started=10, cost_usd=0.5) + _days(
        28, runs_started=0, runs_ended=0, success_rate=None, cost_usd=0.0
    )
    told = write_insights(_facts(days_now=busy, days_before=twenty), load_phrasebook())
    assert "Cost rose from $1.00 (2026-10-02 to 2026-10-31) to $1,800.00" in told.summary
    assert not any("holds" in s for s in told.what_changed)
    # A fall to a handful of runs is news: the baseline is the range before, and it is full.
    collapsed = write_insights(_facts(days_now=three_runs, days_before=busy), load_phrasebook())
    assert "Runs started fell from 3,000 (2026-10-02 to 2026-10-31) to 3" in collapsed.summary
    # A few runs before and none now is no fall to tell either: the baseline is as thin.
    stopped = _days(30, runs_started=0, runs_ended=0, success_rate=None, cost_usd=0.0)
    ended = write_insights(_facts(days_now=stopped, days_before=three_runs), load_phrasebook())
    assert ended.what_changed[0].startswith("The range before (2026-10-02 to 2026-10-31) holds")
    assert "3 runs against 0 from 2026-11-01 to 2026-11-30" in ended.what_changed[0]


def test_a_headline_total_that_moved_is_told_and_a_steady_range_says_nothing_moved() -> None:
    failing = _facts(days_now=_days(30, success_rate=0.5, runs_started=30, runs_ended=30))
    written = write_insights(failing, load_phrasebook())
    assert "Success rate fell from 90% (2026-10-02 to 2026-10-31) to 50%" in written.summary
    assert "Runs started rose from 300 (2026-10-02 to 2026-10-31) to 900" in written.summary
    assert "filtered by status failed" in written.suggested_actions[0]

    steady = write_insights(_facts(), load_phrasebook())
    assert steady.summary.startswith("From 2026-11-01 to 2026-11-30: success rate: 90% (90%")
    assert "Nothing moved past the thresholds" in steady.summary
    assert steady.what_changed and steady.suggested_actions


def test_an_anomaly_on_a_metric_the_phrasebook_does_not_know_gets_general_words() -> None:
    odd = _anomaly("duration_p99_s", "Slowest 1% of runs", "seconds", "critical", 900.0, 300.0)
    written = write_insights(_facts(anomalies=(odd,)), load_phrasebook())
    assert written.what_changed[0].startswith("Critical: Slowest 1% of runs rose from 300 s")
    assert "Open the Slowest 1% of runs trend in Analytics" in written.suggested_actions[0]


def test_equal_facts_have_one_digest_and_a_changed_figure_another() -> None:
    assert _facts().digest() == _facts().digest()
    assert _facts().digest() != _facts(days_now=_days(30, tokens=1001)).digest()
    assert RANGE.before() == Window(date(2026, 10, 2), date(2026, 10, 31))
    assert RANGE.before().days == RANGE.days == 30
    assert Window(RANGE.since, RANGE.since).before().until == RANGE.since - timedelta(days=1)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ("of {window} in Runs", "of {who} in Runs", "unknown placeholder {who}"),
        ("    down:\n      why:", "    sideways:\n      why:", "metrics.success_rate.sideways"),
        ("  success_rate:\n", "  success_rates:\n", "metrics: add success_rate"),
    ],
)
def test_a_broken_phrasebook_names_the_field_and_the_fix(
    tmp_path: Path, change: str, field: str, problem: str
) -> None:
    packaged = Path(__file__).parents[2] / "src/missionctl/schemas/insights.yaml"
    text = packaged.read_text(encoding="utf-8")
    assert change in text
    broken = tmp_path / "insights.yaml"
    broken.write_text(text.replace(change, field, 1), encoding="utf-8")
    with pytest.raises(DataFileError, match=re.escape(problem)):
        read_data_file(broken, TypeAdapter(PhrasebookFile))


def test_a_retention_anomaly_names_the_weeks_it_pools() -> None:
    dip = _anomaly("retention", "Early retention (weeks 1-2)", "ratio", "warning", 0.35, 0.75)
    written = write_insights(_facts(anomalies=(dip,)), load_phrasebook())
    said = _all(written)
    assert "Fewer people come back in week 1-2, which shrinks the active base over time." in said
    assert not [s for s in said if re.search(r"week [,?]|\{|\}", s)], said
