"""The facts' reads rank durations and count retention as the domain does, on both databases.

The durations here need chosen timestamps, which appends cannot give (the log dates events at
the database's clock), so the rows are written with the follower's own upsert; every other
test appends events and lets the follower write.
"""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from missionctl.domain.analytics import (
    Journey,
    RunFact,
    duration_percentiles,
    retention_counts,
    week_of,
)
from missionctl.repositories import analytics as repo
from missionctl.services import ServiceContext

MONDAY = date(2026, 11, 2)


def _runs(count: int) -> list[RunFact]:
    rng = random.Random(count)
    runs = []
    for n in range(count):
        created = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 10))
        lasted = timedelta(seconds=rng.choice([1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]))
        runs.append(
            RunFact(
                run_id=str(uuid.uuid4()),
                mission_id=None,
                owner=None,
                workflow="w" if n % 3 else "other",
                created_at=created,
                started_at=created,
                ended_at=created + lasted,
                status="completed" if n % 4 else "failed",
            )
        )
    runs.append(RunFact(str(uuid.uuid4()), None, None, "w", runs[0].created_at))  # never ended
    return runs


async def test_percentiles_per_day_and_week_match_the_domains_nearest_rank(
    ctx: ServiceContext,
) -> None:
    runs = _runs(97)

    def write(session: Session) -> None:
        repo._upsert(session, repo.runs, [repo._run_row(run) for run in runs])

    await ctx.write_blocking(write)
    rows = [(run.created_at.date(), run.duration_s) for run in runs if run.duration_s is not None]
    scope = repo.Scope(MONDAY, MONDAY + timedelta(days=13))
    for weekly in (False, True):
        async with ctx.read() as session:
            found = await session.run_sync(
                lambda s, w=weekly: repo.duration_percentiles(s, scope, weekly=w, exact=True)
            )
        expected = duration_percentiles(rows, "week" if weekly else "day")
        assert found == expected and len(found) == (2 if weekly else 10)
    narrow = repo.Scope(MONDAY, MONDAY + timedelta(days=13), ("workflow", "other"))
    async with ctx.read() as session:
        found = await session.run_sync(
            lambda s: repo.duration_percentiles(s, narrow, weekly=True, exact=True)
        )
    others = [
        (r.created_at.date(), r.duration_s) for r in runs if r.workflow == "other" and r.duration_s
    ]
    assert found == duration_percentiles(others, "week")


async def test_the_sums_per_day_and_week_answer_as_the_runs_do_for_any_range(
    ctx: ServiceContext,
) -> None:
    runs = _runs(120)

    def write(session: Session) -> None:
        repo._upsert(session, repo.runs, [repo._run_row(run) for run in runs])
        repo._refresh_run_days(session, {run.created_at.date() for run in runs})

    await ctx.write_blocking(write)
    # Whole weeks, a range cut mid-week at both ends, one day, a range inside one week.
    for since, until in [(0, 13), (2, 11), (4, 4), (1, 5), (-3, 20)]:
        scope = repo.Scope(MONDAY + timedelta(days=since), MONDAY + timedelta(days=until))
        for weekly in (False, True):
            async with ctx.read() as session:
                summed, scanned = await session.run_sync(
                    lambda s, sc=scope, w=weekly: (
                        repo.duration_percentiles(s, sc, weekly=w),
                        repo.duration_percentiles(s, sc, weekly=w, exact=True),
                    )
                )
            assert summed == scanned, (since, until, weekly)
        async with ctx.read() as session:
            fast = await session.run_sync(lambda s, sc=scope: repo.runs_per_day(s, sc))
            everything = repo.Scope(scope.since, scope.until, ("workflow", "w"))
            slow_w = await session.run_sync(lambda s, sc=everything: repo.runs_per_day(s, sc))
        assert sum(d.started for d in fast) == sum(
            1 for r in runs if scope.since <= r.created_at.date() <= scope.until
        )
        assert sum(d.started for d in slow_w) <= sum(d.started for d in fast)


async def test_retention_counts_each_cohorts_weeks_one_to_n_and_no_later_week(
    ctx: ServiceContext,
) -> None:
    # Two cohorts a week apart; each person comes back on some of weeks 1-10 after their own,
    # bo twice in week 1 (counted once).
    first = {"ann": MONDAY, "bo": MONDAY + timedelta(days=3), "cy": MONDAY + timedelta(days=8)}
    back = {"ann": [1, 2, 8, 9], "bo": [1, 1, 7, 8, 10], "cy": [2, 8, 9]}
    journeys = [
        Journey(name, "operator", {"mission": datetime.combine(day, time(9), UTC)})
        for name, day in first.items()
    ]
    active = set(first.items()) | {
        (name, week_of(first[name]) + timedelta(weeks=k, days=n % 2 * 2))
        for name, weeks in back.items()
        for n, k in enumerate(weeks)
    }

    def write(session: Session) -> None:
        repo._upsert(session, repo.people, [repo._person_row(j) for j in journeys])
        rows = [{"day": d, "user_name": n, "week": week_of(d)} for n, d in sorted(active)]
        repo._upsert(session, repo.active_days, rows, update=False)

    await ctx.write_blocking(write)
    scope = repo.Scope(MONDAY, MONDAY + timedelta(days=13))
    async with ctx.read() as session:
        sizes, returned = await session.run_sync(lambda s: repo.retention_counts(s, scope, weeks=8))
    assert sizes == {MONDAY: 2, MONDAY + timedelta(weeks=1): 1}
    # The domain's count of every later week, kept to weeks 1-8 of each cohort.
    _, everything = retention_counts(first, ((n, week_of(d)) for n, d in active))
    expected = {
        (cohort, week): count
        for (cohort, week), count in everything.items()
        if week <= cohort + timedelta(weeks=8)
    }
    assert returned == expected
    assert returned[(MONDAY, MONDAY + timedelta(weeks=8))] == 2  # ann and bo, week 8
    assert (MONDAY, MONDAY + timedelta(weeks=9)) not in returned  # ann's week 9: past week 8


async def test_daily_and_weekly_actives_count_each_person_once_per_day_and_per_whole_week(
    ctx: ServiceContext,
) -> None:
    # ann on 3 days of week 1 and 1 of week 2; bo on 1 day of week 1; cy only on the Sunday
    # before the range (outside it).
    seen = {
        "ann": [
            MONDAY,
            MONDAY + timedelta(days=1),
            MONDAY + timedelta(days=4),
            MONDAY + timedelta(days=9),
        ],
        "bo": [MONDAY + timedelta(days=2)],
        "cy": [MONDAY - timedelta(days=1)],
    }
    rows = [
        {"day": day, "user_name": name, "week": week_of(day)}
        for name, days in seen.items()
        for day in days
    ]
    await ctx.write_blocking(lambda s: repo._upsert(s, repo.active_days, rows, update=False))
    scope = repo.Scope(MONDAY, MONDAY + timedelta(days=13))  # two whole ISO weeks
    weeks = [MONDAY, MONDAY + timedelta(weeks=1)]
    async with ctx.read() as session:
        person_days = await session.run_sync(lambda s: repo.active_person_days(s, scope))
        weekly = await session.run_sync(lambda s: repo.weekly_active_people(s, scope, weeks=weeks))
        none = await session.run_sync(lambda s: repo.weekly_active_people(s, scope, weeks=[]))
    assert person_days == 5  # ann's four days and bo's one; cy's Sunday is before the range
    assert weekly == [2, 1] and none == []
