"""Tasks built and tasks documented per day: from the ``step.succeeded`` events' outcome, and
derived from the step's agent and outputs for events logged before outcomes were."""

from datetime import UTC, date, datetime, timedelta, timezone

import httpx2

from missionctl.domain.access import Role
from missionctl.domain.analytics import StepEnd, outcome_days, trends
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from tests.services.helpers import run_goal
from tests.support.auth import bearer_headers
from tests.support.fixtures import PINNED_DAY

MONDAY = date(2026, 3, 2)
NOON = datetime(2026, 3, 2, 12, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))
VERIFIED = {"files_changed": ["app.py"], "tests_exit_code": 0}


def test_built_and_documented_are_counted_per_utc_day_old_events_derived() -> None:
    ends = [
        StepEnd(NOON, "built", "coding:codex", VERIFIED),  # logged with its outcome
        StepEnd(NOON, None, "coding:codex", VERIFIED),  # logged before outcomes: derived
        StepEnd(NOON, None, "builtin:architect", {"documents": ["design.md"]}),
        StepEnd(NOON, None, "llm:writer", {}),
        # 08:00 in Tokyo on 3 March is 23:00 UTC on 2 March.
        StepEnd(datetime(2026, 3, 3, 8, tzinfo=TOKYO), "documented", "builtin:qa", {}),
        StepEnd(NOON + timedelta(days=1), None, "builtin:qa", {}),
        # Not built: code changed without its tests passing, nothing changed, a command, a merge.
        StepEnd(NOON, None, "coding:codex", {"files_changed": ["a"], "tests_exit_code": 1}),
        StepEnd(NOON, None, "coding:codex", {"files_changed": []}),
        StepEnd(NOON, None, "command", {}),
        StepEnd(NOON, "merged", "git:merge", {}),
        # The logged outcome decides, whatever the outputs would say.
        StepEnd(NOON, "no_change", "coding:codex", VERIFIED),
        StepEnd(NOON, "bogus", "builtin:qa", {}),  # an unknown word: derived again
    ]
    assert outcome_days(ends) == {MONDAY: (2, 4), MONDAY + timedelta(days=1): (0, 1)}


def test_the_trends_roll_the_days_into_weeks_and_ignore_days_outside() -> None:
    days = {MONDAY: (2, 3), MONDAY + timedelta(days=6): (1, 0), MONDAY + timedelta(days=7): (0, 9)}
    points = trends(
        since=MONDAY,
        until=MONDAY + timedelta(days=6),
        grain="week",
        active_users={},
        missions={},
        run_days=[],
        durations={},
        outcomes=days,
    )
    assert [(p.tasks_built, p.tasks_documented) for p in points] == [(3, 3)]
    daily = trends(
        since=MONDAY,
        until=MONDAY + timedelta(days=1),
        grain="day",
        active_users={},
        missions={},
        run_days=[],
        durations={},
    )
    assert [(p.tasks_built, p.tasks_documented) for p in daily] == [(0, 0), (0, 0)]


async def test_a_viewer_sees_an_offline_missions_tasks_documented_and_none_built(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    done = await run_goal(ctx, MissionCreate(goal="Build a URL shortener with custom aliases"))
    documented = sum(s.agent.startswith("builtin:") for s in done.steps)
    assert documented == len(done.steps) >= 6
    headers = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    today = PINNED_DAY.isoformat()
    answer = await client.get(
        "/api/v1/analytics/trends", params={"since": today, "until": today}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    (item,) = answer.json()["items"]
    assert (item["tasks_built"], item["tasks_documented"]) == (0, documented)
    definitions = (await client.get("/api/v1/analytics/definitions", headers=headers)).json()
    keys = [item["key"] for item in definitions["items"]]
    assert {"trends.tasks_built", "trends.tasks_documented"} <= set(keys)


async def test_the_follower_counts_logged_outcomes_and_derives_the_rest(
    ctx: ServiceContext,
) -> None:
    """The analytics follower's step outcomes on each backend: the outcome read out of the
    payload where it is one, the step run's facts where the event has none or a word that is not
    one; each window adds to the days it touches, and a rebuild counts the same."""
    from missionctl.eventlog import NewEvent
    from missionctl.eventlog.store import append
    from missionctl.repositories.analytics import step_ends
    from missionctl.services.usecases import analytics as analytics_service

    async def counted() -> dict[tuple[date, object], int]:
        await ctx.catch_up(analytics_service.FOLLOWER)
        async with ctx.read() as session:
            ends = await session.run_sync(lambda s: step_ends(s, PINNED_DAY, PINNED_DAY))
        return {(e.ts.date(), e.logged_outcome): e.count for e in ends}

    done = await run_goal(ctx, MissionCreate(goal="Build a URL shortener with custom aliases"))
    first = done.steps[0]
    documented = len(done.steps)
    assert await counted() == {(PINNED_DAY, "documented"): documented}
    async with ctx.write() as session:
        older = {"status": "succeeded"}  # as logged before outcomes were
        await append(
            session,
            [
                NewEvent("step.succeeded", "system", payload, run_id=done.id, step_id=first.step_id)
                for payload in (older, {"outcome": "bogus"}, {"outcome": 7}, {"outcome": "built"})
            ],
        )
    # The builtin specialist's step documented: the three without an outcome derive that.
    after = {(PINNED_DAY, "built"): 1, (PINNED_DAY, "documented"): documented + 3}
    assert await counted() == after
    async with ctx.read() as session:
        ends = await session.run_sync(lambda s: step_ends(s, PINNED_DAY, PINNED_DAY))
    assert outcome_days(ends) == {PINNED_DAY: (1, documented + 3)}
    await analytics_service.rebuild(ctx)
    assert await counted() == after
