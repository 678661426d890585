"""The facts follow the log (ADR 0068): appended events reach the answers, exactly once each,
in batches, with concurrent appenders and followers, and a rebuild gives the same facts."""

import asyncio
import dataclasses
import uuid
from datetime import date
from typing import Any

from sqlalchemy import text

from missionctl.eventlog import NewEvent, append
from missionctl.services import ServiceContext
from missionctl.services.followers import ANALYTICS_FACTS, catch_up
from missionctl.services.usecases import analytics as service
from missionctl.services.usecases.analytics import AnalyticsQuery, rebuild
from tests.support.fixtures import PINNED_DAY

TODAY = PINNED_DAY
QUERY = AnalyticsQuery(TODAY, TODAY)


async def _append(ctx: ServiceContext, events: list[NewEvent]) -> None:
    async with ctx.write() as session:
        await append(session, events)


def _journey(
    name: str, *, planner: str = "local", workflow: str = "ship", ok: bool = True
) -> list[NewEvent]:
    """A person's first day: sign in, a mission planned and run, the run's spend and end."""
    mission, run = uuid.uuid4(), uuid.uuid4()
    actor = f"user:{name}"
    end = "run.completed" if ok else "run.failed"
    return [
        NewEvent("user.created", "system", {"name": name, "role": "operator"}),
        NewEvent("user.signed_in", actor, {"name": name, "method": "password"}),
        NewEvent("mission.created", actor, {"title": "t"}, mission_id=mission),
        NewEvent("plan.created", actor, {"source": planner}, mission_id=mission),
        NewEvent("run.created", actor, {"workflow": workflow}, mission_id=mission, run_id=run),
        NewEvent("run.started", "system", {"status": "running"}, mission_id=mission, run_id=run),
        NewEvent(
            "step.succeeded",
            "system",
            {"cost_micros": 125_000, "input_tokens": 40, "output_tokens": 2},
            run_id=run,
            step_id="a",
        ),
        NewEvent(end, "system", {"status": end.split(".")[1]}, mission_id=mission, run_id=run),
    ]


async def _today(ctx: ServiceContext, **kw: Any) -> dict[str, Any]:
    answer = await service.read_trends(ctx, query=AnalyticsQuery(TODAY, TODAY, **kw), grain="day")
    (item,) = answer.items
    return item.model_dump()


async def _rows(ctx: ServiceContext, table: str) -> int:
    async with ctx.read() as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_appended_events_reach_every_answer_without_writing_facts_by_hand(
    ctx: ServiceContext,
) -> None:
    await _append(ctx, _journey("ada") + _journey("bob", ok=False))
    assert await _rows(ctx, "analytics_runs") == 0  # nothing on the appending path
    item = await _today(ctx)
    assert item["active_users"] == 2 and item["missions_created"] == 2
    assert (item["runs_started"], item["runs_ended"], item["success_rate"]) == (2, 2, 0.5)
    assert (item["cost_usd"], item["tokens"]) == (0.25, 84)
    assert item["duration_p50_s"] is not None and item["duration_p50_s"] >= 0

    funnel = await service.read_funnel(ctx, query=QUERY, grain="day")
    (cohort,) = funnel.items
    assert [s.users for s in cohort.steps] == [2, 2, 2, 2, 1, 0]
    assert cohort.complete is False and funnel.meta.time_zone == "UTC"
    # The sums kept per day answer as the runs themselves do (a segment reads the runs).
    assert await _today(ctx, segment=("role", "operator")) == item
    retention = await service.read_retention(ctx, query=QUERY)
    (week,) = retention.items
    assert week.users == 2 and not any(cell.complete for cell in week.weeks)


async def test_following_goes_in_batches_and_folds_each_event_once(ctx: ServiceContext) -> None:
    small = dataclasses.replace(ANALYTICS_FACTS, batch_events=3)
    await _append(ctx, [e for n in range(5) for e in _journey(f"u{n}")])
    head = await catch_up(ctx, small)
    assert await catch_up(ctx, small) == head
    item = await _today(ctx)
    assert (item["runs_started"], item["tokens"], item["active_users"]) == (5, 210, 5)


async def test_test_users_and_system_actors_are_left_out(ctx: ServiceContext) -> None:
    await _append(ctx, _journey("test-robot") + _journey("ada"))
    await _append(ctx, [NewEvent("mission.created", "system", {}, mission_id=uuid.uuid4())])
    item = await _today(ctx)
    # The system's mission is a mission; the test user's is nothing.
    assert (item["active_users"], item["missions_created"], item["runs_started"]) == (1, 2, 1)


async def test_segments_narrow_people_missions_and_runs(ctx: ServiceContext) -> None:
    await _append(ctx, _journey("ada", planner="local", workflow="ship"))
    await _append(ctx, _journey("bob", planner="gpt-5", workflow="audit", ok=False))
    await _append(ctx, [NewEvent("user.role_changed", "user:ada", {"name": "bob", "to": "viewer"})])
    by_model = await _today(ctx, segment=("planner", "model"))
    assert (by_model["missions_created"], by_model["runs_started"]) == (1, 1)
    assert by_model["success_rate"] == 0.0
    shipping = await _today(ctx, segment=("workflow", "ship"))
    assert (shipping["runs_started"], shipping["active_users"], shipping["success_rate"]) == (
        1,
        1,
        1,
    )
    viewers = await _today(ctx, segment=("role", "viewer"))
    assert (viewers["active_users"], viewers["runs_started"]) == (1, 1)
    assert (await _today(ctx, segment=("workflow", "none-such")))["active_users"] == 0


async def test_two_appenders_and_two_followers_at_once_keep_the_facts_exact(
    ctx: ServiceContext,
) -> None:
    small = dataclasses.replace(ANALYTICS_FACTS, batch_events=5)

    async def appender(prefix: str) -> None:
        for n in range(6):
            await _append(ctx, _journey(f"{prefix}{n}"))

    async def follower() -> None:
        for _ in range(10):
            await catch_up(ctx, small)
            await asyncio.sleep(0)

    await asyncio.gather(appender("a"), appender("b"), follower(), follower())
    item = await _today(ctx)
    assert (item["active_users"], item["runs_started"], item["tokens"]) == (12, 12, 504)
    assert item["cost_usd"] == 1.5
    assert await _rows(ctx, "analytics_runs") == 12


async def test_a_rebuild_gives_the_same_facts(ctx: ServiceContext) -> None:
    await _append(ctx, _journey("ada") + _journey("bob", ok=False))
    before = await _today(ctx)
    funnel_before = (await service.read_funnel(ctx, query=QUERY, grain="week")).items
    await rebuild(ctx)
    assert await _today(ctx) == before
    assert (await service.read_funnel(ctx, query=QUERY, grain="week")).items == funnel_before


async def test_an_empty_log_answers_every_bucket_at_zero(ctx: ServiceContext) -> None:
    query = AnalyticsQuery(date(2025, 1, 1), date(2025, 12, 31))
    trends = await service.read_trends(ctx, query=query, grain="week")
    assert len(trends.items) == 53 and trends.items[0].bucket == "2025-W01"
    assert all(i.runs_started == 0 and i.success_rate is None for i in trends.items)
    assert trends.meta.range.days == 365


async def test_every_read_is_planned_for_its_own_range_and_segment(ctx: ServiceContext) -> None:
    """PostgreSQL's generic plan of a statement the driver prepared is blind to the values.

    A workflow's retention took ten times as long on it; the reads opt out. SQLite has no
    such plan, and the opt-out sends it nothing.
    """

    def mode(session: Any) -> str | None:
        if session.get_bind().dialect.name != "postgresql":
            return None
        return str(session.execute(text("SHOW plan_cache_mode")).scalar_one())

    answer, _ = await service.read_current(ctx, mode)
    on_postgresql = ctx.settings.database_url.startswith("postgresql")
    assert answer == ("force_custom_plan" if on_postgresql else None)
