"""Requests to run a mission, and saves of a workflow, arriving together.

A mission's run request reads the plan, saves the compiled workflow version and starts the run
in one transaction (ADR 0038): twins of it must neither both run one mission nor both take one
version number, and the log they append to must stay a valid chain.
"""

import asyncio
import uuid

import pytest

from missionctl.errors import Conflict, NotFound
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.audit import verify_event_chain
from missionctl.services.usecases.dashboard.runs import read_runs
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from missionctl.services.usecases.workflows import (
    create_workflow,
    read_workflow,
    read_workflow_versions,
)

ACTOR = "user:test"
GOAL = "Build an inventory service for a bicycle repair shop: parts, orders and suppliers"


async def _planned(ctx: ServiceContext, goal: str = GOAL) -> uuid.UUID:
    mission = await create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    return mission.id


async def test_twin_requests_to_run_one_mission_start_it_once(ctx: ServiceContext) -> None:
    mission_id = await _planned(ctx)
    answers = await asyncio.gather(
        *(run_mission(ctx, mission_id=mission_id, actor=ACTOR) for _ in range(4)),
        return_exceptions=True,
    )
    started = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(started) == 1, answers
    assert all(isinstance(e, Conflict) and "is running" in str(e) for e in refused), refused
    assert (await read_mission(ctx, mission_id=mission_id)).status == "running"
    # The refused requests left no workflow version behind: one version, that of the run.
    run = started[0]
    versions = await read_workflow_versions(ctx, name=(await _workflow_name(ctx, run.workflow_id)))
    assert [v.id for v in versions] == [run.workflow_id]
    assert (await verify_event_chain(ctx)).ok


async def test_runs_of_many_missions_requested_together_each_start(ctx: ServiceContext) -> None:
    # One goal, so one title: each mission still gets a workflow of its own (ADR 0046).
    missions = [await _planned(ctx) for _ in range(6)]
    runs = await asyncio.gather(
        *(run_mission(ctx, mission_id=m, actor=ACTOR, trigger="api") for m in missions)
    )
    assert sorted(r.mission_id for r in runs if r.mission_id) == sorted(missions)
    names = {await _workflow_name(ctx, r.workflow_id) for r in runs}
    assert len(names) == 6
    for run in runs:
        versions = await read_workflow_versions(
            ctx, name=await _workflow_name(ctx, run.workflow_id)
        )
        assert [(v.id, v.version, v.mission_id) for v in versions] == [
            (run.workflow_id, 1, run.mission_id)
        ]
    page = await read_runs(ctx, limit=50)
    assert {r.id for r in runs} <= {r.id for r in page.items}
    assert all(r.status == "running" for r in runs)
    assert (await verify_event_chain(ctx)).ok


async def test_a_missions_runs_are_versions_of_its_own_workflow(ctx: ServiceContext) -> None:
    mission_id = await _planned(ctx)
    first = await run_mission(ctx, mission_id=mission_id, actor=ACTOR)
    name = await _workflow_name(ctx, first.workflow_id)
    title = (await read_mission(ctx, mission_id=mission_id)).title
    assert name == f"{title} · {mission_id.hex[-8:]}"
    # A second mission with the same title runs a workflow of its own.
    other = await run_mission(ctx, mission_id=await _planned(ctx), actor=ACTOR)
    assert await _workflow_name(ctx, other.workflow_id) != name
    assert [v.mission_id for v in await read_workflow_versions(ctx, name=name)] == [mission_id]


async def test_twin_saves_of_one_workflow_take_consecutive_versions(ctx: ServiceContext) -> None:
    spec = WorkflowSpec.model_validate(
        {"name": "nightly-import", "steps": [{"id": "only", "agent": "builtin:noop"}]}
    )
    saved = await asyncio.gather(*(create_workflow(ctx, spec=spec, actor=ACTOR) for _ in range(5)))
    assert sorted(w.version for w in saved) == [1, 2, 3, 4, 5]
    assert (await verify_event_chain(ctx)).ok


async def test_a_refused_run_request_changes_nothing(ctx: ServiceContext) -> None:
    unplanned = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    with pytest.raises(Conflict, match="no plan yet"):
        await run_mission(ctx, mission_id=unplanned.id, actor=ACTOR)
    with pytest.raises(NotFound, match="no mission"):
        await run_mission(ctx, mission_id=uuid.uuid4(), actor=ACTOR)
    assert (await read_mission(ctx, mission_id=unplanned.id)).status == "draft"
    assert (await read_runs(ctx, limit=10)).total == 0


async def _workflow_name(ctx: ServiceContext, workflow_id: uuid.UUID) -> str:
    return (await read_workflow(ctx, workflow_id=workflow_id)).name
