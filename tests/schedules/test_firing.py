"""The scheduler on both databases: exactly once per tick, misfires, overlap, run now.

The tests drive the clock: ``fire_due(ctx, now)`` is one pass at the test's ``now``; nothing
waits for real time.
"""

import asyncio
from typing import Any

import pytest

from missionctl.domain import events as ev
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.schedules import ScheduleCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import scheduler
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission
from missionctl.services.usecases.runs import cancel_run, read_run
from missionctl.services.usecases.scheduler import fire_due, run_now
from missionctl.services.usecases.schedules import (
    create_schedule,
    delete_schedule,
    pause_schedule,
    read_schedule,
    resume_schedule,
)
from missionctl.settings import Settings
from tests.schedules.helpers import (
    T0,
    count_runs,
    events_of,
    every_minute,
    minute,
    runs_of,
    saved_workflow,
)


async def test_two_workers_racing_five_ticks_start_exactly_five_runs(
    ctx: ServiceContext, settings: Settings
) -> None:
    workflow_id = await saved_workflow(ctx)
    schedule = await every_minute(ctx, workflow_id, overlap_policy="allow")
    async with open_context(settings, upgrade=False) as twin:
        for n in range(1, 6):
            first, second = await asyncio.gather(
                fire_due(ctx, minute(n)), fire_due(twin, minute(n))
            )
            # One of the two fired the tick; the other found it claimed.
            assert sorted(len(f) for f in (first, second)) == [0, 1], n
    runs = await runs_of(ctx, schedule.id)
    assert len(runs) == 5
    assert len({r.id for r in runs}) == 5
    assert {(r.trigger, r.created_by) for r in runs} == {("cron", f"schedule:{schedule.name}")}
    fired = await events_of(ctx, ev.SCHEDULE_FIRED)
    assert [e.payload["tick"] for e in fired] == [minute(n, 0).isoformat() for n in range(1, 6)]
    read = await read_schedule(ctx, schedule_id=schedule.id)
    assert read.next_fire_at == minute(6, 0)
    assert read.last_run_id == runs[-1].id and read.last_outcome == "started"


async def test_a_pass_before_the_tick_fires_nothing(ctx: ServiceContext) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx))
    assert await fire_due(ctx, T0) == []
    assert await fire_due(ctx, minute(1, 0)) != []  # exactly at the tick: due
    assert await fire_due(ctx, minute(1, 30)) == []
    assert len(await runs_of(ctx, schedule.id)) == 1


@pytest.mark.parametrize("policy", ["skip", "run_once"])
async def test_ticks_missed_while_paused_follow_the_misfire_policy(
    ctx: ServiceContext, policy: str
) -> None:
    schedule = await every_minute(
        ctx, await saved_workflow(ctx), misfire_policy=policy, overlap_policy="allow"
    )
    await pause_schedule(ctx, schedule_id=schedule.id, actor="user:test")
    assert await fire_due(ctx, minute(3)) == []  # paused: nothing fires, nothing is missed yet
    await resume_schedule(ctx, schedule_id=schedule.id, actor="user:test")
    # 45 s after the fourth tick: ticks 1 to 4 were missed, none is on time.
    [fired] = await fire_due(ctx, minute(4, 45))
    assert fired.missed == 4
    [misfired] = await events_of(ctx, ev.SCHEDULE_MISFIRED)
    assert misfired.payload["missed"] == 4
    assert misfired.payload["policy"] == policy
    assert misfired.payload["first_missed"] == minute(1, 0).isoformat()
    assert misfired.payload["last_missed"] == minute(4, 0).isoformat()
    runs = await runs_of(ctx, schedule.id)
    if policy == "skip":
        assert runs == [] and fired.outcome == "missed"
        assert misfired.payload["caught_up"] is False
    else:
        assert len(runs) == 1 and fired.outcome == "started"
        assert misfired.payload["caught_up"] is True
        assert misfired.payload["run_id"] == str(runs[0].id)
    # The schedule ticks on from now, once.
    assert (await read_schedule(ctx, schedule_id=schedule.id)).next_fire_at == minute(5, 0)
    assert await fire_due(ctx, minute(4, 55)) == []
    [next_one] = await fire_due(ctx, minute(5))
    assert next_one.outcome == "started" and next_one.missed == 0


async def test_a_tick_a_little_late_is_on_time_and_older_ones_missed(ctx: ServiceContext) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), misfire_policy="run_once")
    # Down from just before tick 1 to 20 s after tick 3: tick 3 is on time, 1 and 2 missed.
    [fired] = await fire_due(ctx, minute(3, 20))
    assert (fired.outcome, fired.missed) == ("started", 2)
    assert len(await runs_of(ctx, schedule.id)) == 1  # a pass fires at most one run
    [misfired] = await events_of(ctx, ev.SCHEDULE_MISFIRED)
    assert misfired.payload["missed"] == 2 and misfired.payload["caught_up"] is False


async def test_overlap_skip_records_the_tick_and_starts_nothing(ctx: ServiceContext) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), overlap_policy="skip")
    [first] = await fire_due(ctx, minute(1))
    [second] = await fire_due(ctx, minute(2))
    assert (first.outcome, second.outcome) == ("started", "skipped")
    assert len(await runs_of(ctx, schedule.id)) == 1
    fired = await events_of(ctx, ev.SCHEDULE_FIRED)
    assert "still active" in fired[-1].payload["reason"]
    # Once the run ended, the next tick starts one again.
    assert first.run_id is not None
    await cancel_run(ctx, run_id=first.run_id, actor="user:test")
    [third] = await fire_due(ctx, minute(3))
    assert third.outcome == "started"


async def test_overlap_queue_fires_once_when_the_previous_run_ends(ctx: ServiceContext) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), overlap_policy="queue")
    [first] = await fire_due(ctx, minute(1))
    [queued] = await fire_due(ctx, minute(2))
    [coalesced] = await fire_due(ctx, minute(3))
    assert (queued.outcome, coalesced.outcome) == ("queued", "skipped")
    assert (await read_schedule(ctx, schedule_id=schedule.id)).queued_tick == minute(2, 0)
    assert await fire_due(ctx, minute(3, 30)) == []  # still running: the queue waits
    assert first.run_id is not None
    await cancel_run(ctx, run_id=first.run_id, actor="user:test")
    [released] = await fire_due(ctx, minute(3, 40))
    assert released.outcome == "started"
    assert await fire_due(ctx, minute(3, 50)) == []  # served once
    runs = await runs_of(ctx, schedule.id)
    assert len(runs) == 2
    assert (await read_schedule(ctx, schedule_id=schedule.id)).queued_tick is None


async def test_overlap_allow_starts_beside_the_active_run(ctx: ServiceContext) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), overlap_policy="allow")
    for n in (1, 2, 3):
        [fired] = await fire_due(ctx, minute(n))
        assert fired.outcome == "started"
    assert len(await runs_of(ctx, schedule.id)) == 3


async def test_each_fired_run_gets_the_schedule_s_budget_and_inputs(ctx: ServiceContext) -> None:
    workflow_id = await saved_workflow(ctx, inputs={"who": {"type": "string", "default": "world"}})
    schedule = await every_minute(ctx, workflow_id, budget_usd="2.5", inputs={"who": "scheduler"})
    [fired] = await fire_due(ctx, minute(1))
    assert fired.run_id is not None
    run = await read_run(ctx, run_id=fired.run_id)
    assert run.budget_usd == 2.5
    assert (run.schedule_id, run.schedule_name) == (schedule.id, schedule.name)
    [row] = await runs_of(ctx, schedule.id)
    assert row.inputs == {"who": "scheduler"}


async def test_a_start_the_rules_refuse_is_recorded_once_and_not_retried(
    ctx: ServiceContext,
) -> None:
    mission = await create_mission(
        ctx, data=MissionCreate(goal="Build a URL shortener with click analytics"), actor="user:t"
    )
    # Never planned: running it is refused (409), every tick.
    data = ScheduleCreate(name="nightly", cron="* * * * *", mission_id=mission.id)
    schedule = await create_schedule(ctx, data=data, actor="user:test", now=T0)
    [fired] = await fire_due(ctx, minute(1))
    assert fired.outcome == "failed"
    read = await read_schedule(ctx, schedule_id=schedule.id)
    assert read.last_outcome == "failed" and "plan it first" in (read.last_error or "")
    assert read.next_fire_at == minute(2, 0)
    assert await fire_due(ctx, minute(1, 30)) == []
    assert await count_runs(ctx) == 0


async def test_a_mission_runs_its_newest_plan_or_is_planned_again_first(
    ctx: ServiceContext,
) -> None:
    mission = await create_mission(
        ctx, data=MissionCreate(goal="Build a URL shortener with click analytics"), actor="user:t"
    )
    await plan_mission(ctx, mission_id=mission.id, actor="user:t", planner=LocalPlanner())
    data = ScheduleCreate(
        name="replan", cron="0 * * * *", mission_id=mission.id, mission_action="plan_again"
    )
    schedule = await create_schedule(ctx, data=data, actor="user:test", now=T0)
    read = await run_now(ctx, schedule_id=schedule.id, actor="user:op", planner=LocalPlanner())
    assert read.last_outcome == "started" and read.last_run_id is not None
    run = await read_run(ctx, run_id=read.last_run_id)
    assert run.mission_id == mission.id and run.trigger == "manual"
    created = await events_of(ctx, "plan.created")
    assert len(created) == 2  # planned once by hand, once by the schedule
    assert created[-1].actor == "schedule:replan"


async def test_run_now_fires_a_paused_schedule_and_keeps_its_ticks(ctx: ServiceContext) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), paused=True)
    read = await run_now(ctx, schedule_id=schedule.id, actor="user:op")
    assert read.last_outcome == "started" and read.paused
    [event] = await events_of(ctx, ev.SCHEDULE_FIRED)
    assert event.actor == "user:op" and event.payload["trigger"] == "manual"
    assert (await read_schedule(ctx, schedule_id=schedule.id)).next_fire_at is None  # paused


async def test_a_deleted_schedule_never_fires_and_its_name_is_free(ctx: ServiceContext) -> None:
    workflow_id = await saved_workflow(ctx)
    schedule = await every_minute(ctx, workflow_id)
    await delete_schedule(ctx, schedule_id=schedule.id, actor="user:test")
    assert await fire_due(ctx, minute(2)) == []
    with pytest.raises(NotFound):
        await read_schedule(ctx, schedule_id=schedule.id)
    again = ScheduleCreate(name=schedule.name, cron="@daily", workflow_id=workflow_id)
    assert (await create_schedule(ctx, data=again, actor="user:test")).name == schedule.name


async def test_refusals_name_the_field_and_change_nothing(ctx: ServiceContext) -> None:
    workflow_id = await saved_workflow(ctx)
    await every_minute(ctx, workflow_id, name="taken")
    with pytest.raises(Conflict) as taken:
        await every_minute(ctx, workflow_id, name="taken")
    assert taken.value.field == "name"
    with pytest.raises(ValidationFailed) as bad_input:
        await every_minute(ctx, workflow_id, inputs={"nope": 1})
    assert bad_input.value.field == "inputs.nope"
    with pytest.raises(ValidationFailed) as neither:
        await create_schedule(ctx, data=ScheduleCreate(name="x", cron="@daily"), actor="user:test")
    assert neither.value.field == "workflow_id"
    assert len(await events_of(ctx, ev.SCHEDULE_SAVED)) == 1


async def test_twins_adding_one_name_at_once_get_one_schedule_and_one_conflict(
    ctx: ServiceContext, settings: Settings
) -> None:
    workflow_id = await saved_workflow(ctx)
    async with open_context(settings, upgrade=False) as twin:
        results = await asyncio.gather(
            every_minute(ctx, workflow_id, name="twin"),
            every_minute(twin, workflow_id, name="twin"),
            return_exceptions=True,
        )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "ScheduleRead"]


async def test_a_schedule_that_breaks_does_not_keep_the_others_from_firing(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id = await saved_workflow(ctx)
    broken = await every_minute(ctx, workflow_id, name="a-broken")
    healthy = await every_minute(ctx, workflow_id, name="b-healthy")
    real_start = scheduler._start

    def start(session: Any, context: Any, schedule: Any, trigger: str) -> Any:
        if schedule.id == broken.id:
            raise RuntimeError("a bug, not a refusal")
        return real_start(session, context, schedule, trigger)

    monkeypatch.setattr(scheduler, "_start", start)
    [fired] = await fire_due(ctx, minute(1))
    assert fired.schedule_id == healthy.id
    # The broken one's tick was not claimed: it is tried again, and fires once fixed.
    monkeypatch.setattr(scheduler, "_start", real_start)
    [again] = await fire_due(ctx, minute(1, 5))
    assert again.schedule_id == broken.id and again.outcome == "started"


async def test_a_pause_racing_a_pass_still_leaves_the_tick_fired_once(
    ctx: ServiceContext, settings: Settings
) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx))
    async with open_context(settings, upgrade=False) as twin:
        fired, _ = await asyncio.gather(
            fire_due(ctx, minute(1)),
            pause_schedule(twin, schedule_id=schedule.id, actor="user:test"),
        )
    # Either the pass claimed the tick before the pause, or the pause came first and the
    # claim matched no row: never both, never a half-fired tick.
    assert len(await runs_of(ctx, schedule.id)) == len(fired) <= 1
    assert (await read_schedule(ctx, schedule_id=schedule.id)).paused
    await resume_schedule(ctx, schedule_id=schedule.id, actor="user:test")
    await fire_due(ctx, minute(1, 10))  # the tick, if the pause won, is still on time
    assert len(await runs_of(ctx, schedule.id)) == 1
