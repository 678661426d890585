"""The plan a run's steps read: the one its workflow was compiled from, read once per version."""

import asyncio
import uuid
from typing import Any

import pytest

from missionctl.db.models import Mission
from missionctl.engine import plans as plans_module
from missionctl.engine.plans import PlanCache
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import RunPlan, plan_mission, run_mission
from missionctl.services.usecases.workflows import create_workflow

ACTOR = "user:test"
GOAL = "Build a booking site for a climbing gym: routes, passes and belay courses"


async def _planned(ctx: ServiceContext) -> uuid.UUID:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    return mission.id


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    """The workflow ids the cache reads a plan for, in order."""
    seen: list[uuid.UUID] = []
    real = plans_module.read_run_plan

    async def counting(ctx: ServiceContext, **kwargs: Any) -> RunPlan:
        seen.append(kwargs["workflow_id"])
        await asyncio.sleep(0.01)  # twins arrive while the first read is in flight
        return await real(ctx, **kwargs)

    monkeypatch.setattr(plans_module, "read_run_plan", counting)
    return seen


async def test_the_steps_of_a_run_share_one_read_and_each_gets_its_own_copy(
    ctx: ServiceContext, reads: list[uuid.UUID]
) -> None:
    mission_id = await _planned(ctx)
    run = await run_mission(ctx, mission_id=mission_id, actor=ACTOR)
    cache = PlanCache(ctx)
    got = await asyncio.gather(
        *(cache.plan(workflow_id=run.workflow_id, mission_id=mission_id) for _ in range(8))
    )
    assert reads == [run.workflow_id]
    first = got[0]
    assert first is not None and first["mission_id"] == str(mission_id) and first["tasks"]
    first["tasks"].clear()  # an agent changing what it was given...
    again = await cache.plan(workflow_id=run.workflow_id, mission_id=mission_id)
    assert again is not None and again["tasks"] == got[1]["tasks"] != []  # ...changes nothing
    assert reads == [run.workflow_id]


async def test_a_run_reads_the_plan_it_was_compiled_from_after_a_replan(
    ctx: ServiceContext,
) -> None:
    mission_id = await _planned(ctx)
    run = await run_mission(ctx, mission_id=mission_id, actor=ACTOR)
    async with ctx.write() as session:  # the run ends, so the mission may be planned again
        mission = await session.get(Mission, mission_id)
        assert mission is not None
        mission.status = "completed"
    await plan_mission(ctx, mission_id=mission_id, actor=ACTOR, planner=LocalPlanner())
    plan = await PlanCache(ctx).plan(workflow_id=run.workflow_id, mission_id=mission_id)
    assert plan is not None and plan["version"] == 1


async def test_a_workflow_not_compiled_from_a_plan_reads_the_newest_every_time(
    ctx: ServiceContext, reads: list[uuid.UUID]
) -> None:
    mission_id = await _planned(ctx)
    spec = WorkflowSpec.model_validate(
        {"name": "hand-written", "steps": [{"id": "only", "agent": "builtin:noop"}]}
    )
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR, mission_id=mission_id)
    cache = PlanCache(ctx)
    for _ in range(2):
        plan = await cache.plan(workflow_id=workflow.id, mission_id=mission_id)
        assert plan is not None and plan["version"] == 1
    assert reads == [workflow.id, workflow.id]
    assert len(cache) == 0
    none = await cache.plan(workflow_id=workflow.id, mission_id=uuid.uuid4())
    assert none is None  # a mission without a plan: nothing to read


async def test_a_failed_read_is_not_kept(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    mission_id = await _planned(ctx)
    run = await run_mission(ctx, mission_id=mission_id, actor=ACTOR)
    real = plans_module.read_run_plan
    failures = iter([True, False])

    async def flaky(ctx: ServiceContext, **kwargs: Any) -> RunPlan:
        if next(failures):
            raise ConnectionError("the database went away")
        return await real(ctx, **kwargs)

    monkeypatch.setattr(plans_module, "read_run_plan", flaky)
    cache = PlanCache(ctx)
    with pytest.raises(ConnectionError):
        await cache.plan(workflow_id=run.workflow_id, mission_id=mission_id)
    plan = await cache.plan(workflow_id=run.workflow_id, mission_id=mission_id)
    assert plan is not None and plan["tasks"]


def test_a_cache_without_room_is_refused(ctx: ServiceContext) -> None:
    with pytest.raises(ValueError, match="at least one"):
        PlanCache(ctx, capacity=0)


async def test_the_oldest_version_is_evicted_beyond_capacity(
    ctx: ServiceContext, reads: list[uuid.UUID]
) -> None:
    missions = [await _planned(ctx) for _ in range(3)]
    runs = [await run_mission(ctx, mission_id=m, actor=ACTOR) for m in missions]
    cache = PlanCache(ctx, capacity=2)
    for run, mission_id in zip(runs, missions, strict=True):
        await cache.plan(workflow_id=run.workflow_id, mission_id=mission_id)
    assert len(cache) == 2
    await cache.plan(workflow_id=runs[0].workflow_id, mission_id=missions[0])  # evicted: read
    assert reads == [r.workflow_id for r in runs] + [runs[0].workflow_id]
