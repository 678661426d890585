"""The metrics on hand-made histories: what an event means, funnel, trends, retention (ADR 0068).

Timestamps carry offsets on purpose: every bucket is the UTC day of the instant.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from missionctl.domain.analytics import (
    Facts,
    FunnelStep,
    LoggedEvent,
    People,
    active_counts,
    bucket_label,
    bucket_starts,
    duration_percentiles,
    funnel,
    median_and_p95,
    retention,
    retention_counts,
    run_days,
    trends,
    utc_day,
)

PEOPLE = People(("test-*",), frozenset({"user.sign_in_failed", "access.denied"}))
STEPS = [
    FunnelStep("signed_in"),
    FunnelStep("mission", 14),
    FunnelStep("planned", 7),
    FunnelStep("ran", 7),
    FunnelStep("completed", 7),
    FunnelStep("came_back", 30),
]
PARIS = timezone(timedelta(hours=1))
NEW_YORK = timezone(timedelta(hours=-5))
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday


class History:
    """Builds a log by hand, one event at a time, with increasing ``seq``."""

    def __init__(self) -> None:
        self.events: list[LoggedEvent] = []

    def add(
        self,
        type: str,
        actor: str,
        ts: datetime,
        *,
        mission: str | None = None,
        run: str | None = None,
        **payload: Any,
    ) -> "History":
        self.events.append(
            LoggedEvent(len(self.events) + 1, ts, type, actor, mission, run, payload)
        )
        return self

    def journey(
        self, name: str, start: datetime, *, through: int = 6, gap: timedelta = timedelta(hours=1)
    ) -> "History":
        """A person who signs in at ``start`` and reaches ``through`` steps, ``gap`` apart."""
        at = iter(start + gap * i for i in range(10))
        self.add("user.signed_in", f"user:{name}", next(at), name=name)
        m, r = f"m-{name}", f"r-{name}"
        if through >= 2:
            self.add("mission.created", f"user:{name}", next(at), mission=m)
        if through >= 3:
            self.add("plan.created", "system", next(at), mission=m, source="local")
        if through >= 4:
            self.add("run.created", f"user:{name}", next(at), mission=m, run=r, workflow="w")
            self.add("run.started", "system", next(at), mission=m, run=r)
        if through >= 5:
            self.add("run.completed", "system", next(at), mission=m, run=r)
        if through >= 6:
            self.add("report.downloaded", f"user:{name}", next(at), mission=m, run=r)
        return self

    def facts(self) -> Facts:
        facts = Facts(PEOPLE)
        facts.apply_all(self.events)
        return facts


def _reached(facts: Facts, **kw: Any) -> list[tuple[int, ...]]:
    cohorts = funnel(facts.journeys.values(), STEPS, now=T0 + timedelta(days=400), **kw)
    return [c.reached for c in cohorts]


# --- buckets --------------------------------------------------------------------------------


def test_a_bucket_is_the_utc_day_of_the_instant_whatever_its_offset() -> None:
    # 00:30 in Paris is still yesterday in UTC; 20:00 in New York is already tomorrow.
    assert utc_day(datetime(2026, 11, 3, 0, 30, tzinfo=PARIS)) == date(2026, 11, 2)
    assert utc_day(datetime(2026, 11, 2, 20, 0, tzinfo=NEW_YORK)) == date(2026, 11, 3)
    assert utc_day(datetime(2026, 11, 2, 23, 59, 59, 999999, tzinfo=UTC)) == date(2026, 11, 2)
    assert utc_day(datetime(2026, 11, 3, 0, 0, tzinfo=UTC)) == date(2026, 11, 3)


def test_weeks_are_iso_weeks_starting_monday_and_ranges_list_every_bucket() -> None:
    assert bucket_starts(date(2026, 11, 4), date(2026, 11, 16), "week") == [
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
    ]
    assert bucket_label(date(2026, 11, 2), "week") == "2026-W45"
    assert bucket_label(date(2026, 12, 28), "week") == "2026-W53"
    assert len(bucket_starts(date(2026, 1, 1), date(2026, 12, 31), "day")) == 365


def test_percentiles_are_nearest_rank() -> None:
    assert median_and_p95([]) is None
    assert median_and_p95([7.0]) == (7.0, 7.0)
    assert median_and_p95([float(i) for i in range(100, 0, -1)]) == (50.0, 95.0)
    assert median_and_p95([4.0, 1.0, 3.0, 2.0]) == (2.0, 4.0)


# --- who is a person ------------------------------------------------------------------------


def test_only_users_and_their_tokens_are_people_and_test_users_are_no_one() -> None:
    history = (
        History()
        .add("token.created", "user:ada", T0, name="ada-cli", user_name="ada")
        .add("token.created", "user:test-bot", T0, name="bot-ci", user_name="test-bot")
        .add("mission.created", "token:ada-cli", T0, mission="m1")
        .add("mission.created", "token:bot-ci", T0, mission="m2")
        .add("mission.created", "user:test-e2e", T0, mission="m3")
        .add("mission.created", "system", T0, mission="m4")
        .add("mission.created", "schedule:nightly", T0, mission="m5")
        .add("step.log", "agent:builder", T0, run="r")
    )
    facts = history.facts()
    assert set(facts.journeys) == {"ada"}
    assert facts.active_days == {("ada", T0.date())}
    assert {m: f.owner for m, f in facts.missions.items()} == {
        "m1": "ada",
        "m4": None,
        "m5": None,
    }


def test_failed_sign_ins_and_refusals_are_not_activity() -> None:
    facts = (
        History()
        .add("user.sign_in_failed", "user:ada", T0, name="ada")
        .add("access.denied", "user:ada", T0)
        .facts()
    )
    assert facts.active_days == set()


def test_several_events_a_day_make_one_active_day_and_midnight_splits_days() -> None:
    just_before = datetime(2026, 11, 3, 0, 59, tzinfo=PARIS)  # 23:59 UTC on the 2nd
    just_after = datetime(2026, 11, 2, 19, 0, tzinfo=NEW_YORK)  # 00:00 UTC on the 3rd
    history = History()
    for minute in range(5):
        history.add(
            "mission.created", "user:ada", T0 + timedelta(minutes=minute), mission=f"{minute}"
        )
    history.add("run.paused", "user:ada", just_before).add("run.resumed", "user:ada", just_after)
    facts = history.facts()
    assert facts.active_days == {("ada", date(2026, 11, 2)), ("ada", date(2026, 11, 3))}
    assert active_counts(facts.active_days, "day") == {date(2026, 11, 2): 1, date(2026, 11, 3): 1}
    assert active_counts(facts.active_days, "week") == {date(2026, 11, 2): 1}
    assert facts.journeys["ada"].missions == 5


def test_a_schedules_run_of_a_mission_is_its_owners_and_a_bare_workflows_is_no_ones() -> None:
    facts = (
        History()
        .add("mission.created", "user:ada", T0, mission="m")
        .add("run.created", "schedule:nightly", T0, mission="m", run="r1", workflow="w")
        .add("run.created", "schedule:nightly", T0, run="r2", workflow="w")
        .add("run.created", "user:test-x", T0, mission="m", run="r3", workflow="w")
        .facts()
    )
    assert facts.runs["r1"].owner == "ada"
    assert facts.runs["r2"].owner is None
    assert "r3" not in facts.runs  # a test user's run counts nowhere


def test_a_runs_spend_adds_up_and_bad_payload_numbers_count_as_nothing() -> None:
    facts = (
        History()
        .add("run.created", "user:ada", T0, run="r", workflow="w")
        .add(
            "step.succeeded",
            "system",
            T0,
            run="r",
            cost_micros=1500,
            input_tokens=10,
            output_tokens=5,
        )
        .add("step.failed", "system", T0, run="r", cost_micros=500, input_tokens=3)
        .add("step.failed", "system", T0, run="r", cost_micros="lots", input_tokens=-9)
        .add("step.succeeded", "system", T0, run="r", cost_micros=float("nan"), input_tokens=True)
        .add("step.succeeded", "system", T0, run="elsewhere", cost_micros=99)
        .facts()
    )
    assert (facts.runs["r"].cost_micros, facts.runs["r"].tokens) == (2000, 18)


# --- funnel ---------------------------------------------------------------------------------


def test_the_funnel_counts_each_step_in_order_per_cohort_of_first_sign_in() -> None:
    history = History()
    for i, through in enumerate([6, 6, 5, 4, 3, 2, 1]):
        history.journey(f"u{i}", T0 + timedelta(minutes=i), through=through)
    history.journey("late", T0 + timedelta(days=7))  # the next week's cohort
    facts = history.facts()
    kw = {"since": date(2026, 11, 2), "until": date(2026, 11, 15)}
    assert _reached(facts, grain="week", **kw) == [(7, 6, 5, 4, 3, 2), (1, 1, 1, 1, 1, 1)]
    assert _reached(facts, grain="day", **kw)[0] == (7, 6, 5, 4, 3, 2)
    assert len(_reached(facts, grain="day", **kw)) == 14


def test_a_step_outside_its_window_ends_the_journey_there() -> None:
    history = History().journey("slow", T0, gap=timedelta(days=8))  # plans 8 days after: > 7
    assert _reached(history.facts(), since=T0.date(), until=T0.date(), grain="day") == [
        (1, 1, 0, 0, 0, 0)
    ]


def test_a_second_mission_counts_as_coming_back_and_only_sign_ins_start_the_funnel() -> None:
    history = History().journey("ada", T0, through=5)
    history.add("mission.created", "user:ada", T0 + timedelta(days=2), mission="again")
    history.add("mission.created", "user:never-signed-in", T0, mission="x")
    reached = _reached(history.facts(), since=T0.date(), until=T0.date(), grain="day")
    assert reached == [(1, 1, 1, 1, 1, 1)]


def test_a_cohort_is_incomplete_until_its_windows_have_passed() -> None:
    facts = History().journey("ada", T0).facts()
    total = timedelta(days=14 + 7 + 7 + 7 + 30)
    day_after = datetime(2026, 11, 3, tzinfo=UTC)
    early = funnel(
        facts.journeys.values(),
        STEPS,
        since=T0.date(),
        until=T0.date(),
        grain="day",
        now=day_after + total - timedelta(seconds=1),
    )
    late = funnel(
        facts.journeys.values(),
        STEPS,
        since=T0.date(),
        until=T0.date(),
        grain="day",
        now=day_after + total,
    )
    assert (early[0].complete, late[0].complete) == (False, True)


def test_an_empty_range_has_every_cohort_at_zero() -> None:
    cohorts = funnel([], STEPS, since=date(2026, 1, 1), until=date(2026, 1, 3), grain="day", now=T0)
    assert [c.reached for c in cohorts] == [(0,) * 6] * 3


# --- trends ---------------------------------------------------------------------------------


def _trend_history() -> History:
    history = History()
    day = timedelta(days=1)
    for n, (status, seconds) in enumerate([("completed", 60), ("completed", 120), ("failed", 30)]):
        run = f"r{n}"
        history.add("run.created", "user:ada", T0, run=run, workflow="w")
        history.add("run.started", "system", T0, run=run)
        history.add("step.succeeded", "system", T0, run=run, cost_micros=250_000, input_tokens=100)
        history.add(f"run.{status}", "system", T0 + timedelta(seconds=seconds), run=run)
    history.add("run.created", "user:bob", T0 + day, run="pending", workflow="w")
    history.add("mission.created", "user:bob", T0 + day, mission="m")
    history.add("mission.created", "user:test-1", T0 + day, mission="t")
    return history


def _trends(facts: Facts, since: date, until: date, grain: Any) -> list[Any]:
    durations = [
        (utc_day(r.created_at), r.duration_s)
        for r in facts.runs.values()
        if r.duration_s is not None
    ]
    missions: dict[date, int] = {}
    for m in facts.missions.values():
        if m.owner is not None:
            missions[utc_day(m.created_at)] = missions.get(utc_day(m.created_at), 0) + 1
    return trends(
        since=since,
        until=until,
        grain=grain,
        active_users=active_counts(facts.active_days, grain),
        missions=missions,
        run_days=run_days(facts.runs.values()),
        durations=duration_percentiles([(d, s) for d, s in durations if s is not None], grain),
    )


def test_trends_by_day_count_runs_success_spend_and_durations() -> None:
    facts = _trend_history().facts()
    first, second, third = _trends(facts, T0.date(), T0.date() + timedelta(days=2), "day")
    assert (first.runs_started, first.runs_ended, first.success_rate) == (3, 3, 2 / 3)
    assert (first.cost_micros, first.tokens) == (750_000, 300)
    assert (first.duration_p50_s, first.duration_p95_s) == (60.0, 120.0)
    assert (first.active_users, second.active_users) == (1, 1)
    assert (second.runs_started, second.success_rate, second.missions_created) == (1, None, 1)
    assert (third.runs_started, third.active_users, third.duration_p50_s) == (0, 0, None)


def test_trends_by_week_add_days_up_and_count_each_person_once() -> None:
    facts = _trend_history().facts()
    (week,) = _trends(facts, T0.date(), T0.date() + timedelta(days=2), "week")
    assert (week.label, week.active_users, week.runs_started, week.missions_created) == (
        "2026-W45",
        2,
        4,
        1,
    )


def test_days_outside_the_range_are_ignored() -> None:
    facts = _trend_history().facts()
    (only,) = _trends(facts, T0.date() + timedelta(days=1), T0.date() + timedelta(days=1), "day")
    assert only.runs_started == 1


# --- retention ------------------------------------------------------------------------------


def _weeks(pairs: Iterable[tuple[str, date]]) -> list[tuple[str, date]]:
    return [(name, day - timedelta(days=day.weekday())) for name, day in pairs]


def test_retention_counts_returns_per_week_after_the_first_mission() -> None:
    monday = date(2026, 11, 2)
    firsts = {"ada": monday, "bob": monday + timedelta(days=6), "cy": monday + timedelta(days=7)}
    active = _weeks(
        [
            ("ada", monday),  # week 0 is not a return
            ("ada", monday + timedelta(days=8)),
            ("bob", monday + timedelta(days=8)),
            ("bob", monday + timedelta(days=9)),  # twice in a week is once
            ("ada", monday + timedelta(days=15)),
            ("cy", monday + timedelta(days=14)),
            ("ada", monday + timedelta(days=7 * 9)),  # week 9: past the table
        ]
    )
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)  # the week of the 23rd is under way
    first, second = retention(
        *retention_counts(firsts, active),
        since=monday,
        until=monday + timedelta(days=7),
        weeks=8,
        now=now,
    )
    assert (first.label, first.users, second.users) == ("2026-W45", 2, 1)
    assert [c.users for c in first.cells] == [2, 1, 0, 0, 0, 0, 0, 0]
    assert [c.complete for c in first.cells[:3]] == [True, True, False]
    assert [c.users for c in second.cells[:2]] == [1, 0]
    assert [c.complete for c in second.cells[:2]] == [True, False]


def test_retention_of_an_empty_range_lists_empty_cohorts() -> None:
    (cohort,) = retention({}, {}, since=date(2026, 11, 2), until=date(2026, 11, 8), weeks=8, now=T0)
    assert cohort.users == 0 and [c.users for c in cohort.cells] == [0] * 8


@pytest.mark.parametrize("weeks", [1, 8])
def test_retention_has_as_many_cells_as_weeks(weeks: int) -> None:
    (cohort,) = retention({}, {}, since=T0.date(), until=T0.date(), weeks=weeks, now=T0)
    assert [c.week for c in cohort.cells] == list(range(1, weeks + 1))


def test_whole_weeks_are_the_iso_weeks_lying_wholly_inside_the_range() -> None:
    from missionctl.domain.analytics import whole_weeks

    monday = date(2026, 11, 2)
    assert whole_weeks(monday, monday + timedelta(days=13)) == [monday, monday + timedelta(7)]
    assert whole_weeks(monday + timedelta(days=1), monday + timedelta(days=13)) == [
        monday + timedelta(7)
    ]
    assert whole_weeks(monday, monday + timedelta(days=5)) == []  # ends on a Saturday


def test_a_chosen_funnel_keeps_its_order_and_widens_each_window_by_the_steps_left_out() -> None:
    import pytest

    from missionctl.domain.analytics import Journey, chosen_steps, steps_reached

    steps = [
        FunnelStep("signed_in"),
        FunnelStep("mission", 14),
        FunnelStep("planned", 7),
        FunnelStep("ran", 7),
        FunnelStep("completed", 7),
    ]
    chosen = chosen_steps(steps, ["signed_in", "ran", "completed"])
    assert chosen == [FunnelStep("signed_in"), FunnelStep("ran", 28), FunnelStep("completed", 7)]
    # A person who never planned (an API user) but ran on day 20 and completed on day 22 counts
    # in the chosen funnel; the full funnel stops at its second step for them.
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    person = Journey(
        "ann",
        firsts={
            "signed_in": start,
            "mission": start + timedelta(days=1),
            "ran": start + timedelta(days=20),
            "completed": start + timedelta(days=22),
        },
    )
    assert steps_reached(person, chosen) == 3
    assert steps_reached(person, steps) == 2
    for wrong in (
        ["ran", "completed"],
        ["signed_in"],
        ["signed_in", "nope"],
        ["signed_in", "ran", "mission"],
        ["signed_in", "ran", "ran"],
    ):
        with pytest.raises(ValueError, match="starting with signed_in"):
            chosen_steps(steps, wrong)


def test_day_retention_counts_days_one_seven_and_thirty_and_leaves_unknown_days_null() -> None:
    from missionctl.domain.analytics import day_retention, weighted_return

    monday = date(2026, 11, 2)
    firsts = {
        "ann": monday,
        "bo": monday,
        "cy": monday + timedelta(days=1),
        "dee": date(2026, 10, 1),
    }
    active = [
        ("ann", monday + timedelta(days=1)),  # D1
        ("ann", monday + timedelta(days=7)),  # D7
        ("bo", monday + timedelta(days=7)),  # D7
        ("cy", monday + timedelta(days=2)),  # cy's D1
        ("cy", monday + timedelta(days=5)),  # no offset of cy's
    ]
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)  # Nov 9 is over, Nov 10 is not
    cohorts = day_retention(
        firsts, active, since=monday, until=monday + timedelta(days=1), offsets=[1, 7, 30], now=now
    )
    assert [(c.start, c.users) for c in cohorts] == [(monday, 2), (monday + timedelta(days=1), 1)]
    assert [(cell.day, cell.users) for cell in cohorts[0].cells] == [(1, 1), (7, 2), (30, None)]
    # cy's day 7 is Nov 10, not over yet: unknown, not 0.
    assert [(cell.day, cell.users) for cell in cohorts[1].cells] == [(1, 1), (7, None), (30, None)]
    # Weighted by people, the unknown cohort left out: D7 is 2 of 2, not the mean of 100 % and 0 %.
    assert weighted_return([(2, 2), (1, None)]) == (2, 2, 1.0)
    assert weighted_return([(2, 1), (1, 1)]) == (3, 2, 0.6667)
    assert weighted_return([(0, 0), (3, None)]) == (0, 0, None)
