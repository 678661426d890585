"""Planning again with a changed context, and running a completed mission again."""

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.errors import InvalidTransition
from missionctl.eventlog import append
from missionctl.planning import LocalPlanner
from missionctl.schemas.plans import PlanAgain
from missionctl.services import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.runs import move_mission
from tests.web.support import ACTOR, planned_mission


async def _context_events(ctx: ServiceContext) -> list[dict[str, object]]:
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event.payload).where(Event.type == "mission.context_changed")
        )
        return list(rows.all())


async def test_plan_again_stores_the_new_context_records_it_and_plans_with_it(
    ctx: ServiceContext,
) -> None:
    mission = await planned_mission(ctx, "Build a URL shortener with click analytics")
    changes = PlanAgain(constraints=["Go 1.22"], repo_context="A Go monorepo")

    plan = await plan_service.plan_again(
        ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner(), changes=changes
    )

    assert plan.version == 2
    stored = await mission_service.read_mission(ctx, mission_id=mission.id)
    assert (stored.constraints, stored.repo_context) == (["Go 1.22"], "A Go monorepo")
    assert await _context_events(ctx) == [
        {"constraints": ["Go 1.22"], "repo_context": "A Go monorepo"}
    ]
    again = await plan_service.plan_again(
        ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner(), changes=changes
    )
    assert again.version == 3 and len(await _context_events(ctx)) == 1  # nothing changed


async def test_plan_again_of_a_running_mission_is_refused_and_changes_nothing(
    ctx: ServiceContext,
) -> None:
    mission = await planned_mission(ctx, "Build a URL shortener with click analytics")
    await plan_service.run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    async with ctx.write() as session:  # as the engine does when it starts the run
        await append(session, await move_mission(session, mission.id, "running", ACTOR))
    assert (await mission_service.read_mission(ctx, mission_id=mission.id)).status == "running"

    with pytest.raises(InvalidTransition):
        await plan_service.plan_again(
            ctx,
            mission_id=mission.id,
            actor=ACTOR,
            planner=LocalPlanner(),
            changes=PlanAgain(constraints=["Rust"]),
        )

    stored = await mission_service.read_mission(ctx, mission_id=mission.id)
    assert stored.constraints == [] and await _context_events(ctx) == []
