"""Re-planning adds a version; price overrides change what budgets allow."""

from decimal import Decimal

import pytest

from missionctl.errors import InvalidTransition, NotFound
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.prices import PriceSet
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import plan_mission, read_plan
from missionctl.services.usecases.pricing import read_price, set_price

GOAL = "Write a command-line tool that converts CSV files to Parquet with schema inference"


async def test_planning_again_adds_a_version_and_keeps_the_first(ctx: ServiceContext) -> None:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor="user:test")
    first = await plan_mission(
        ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner()
    )
    second = await plan_mission(
        ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner()
    )
    assert (first.version, second.version) == (1, 2)
    assert second.source == "local"
    assert (await read_plan(ctx, mission_id=mission.id)).version == 2
    assert (await read_plan(ctx, mission_id=mission.id, version=1)).id == first.id
    assert (await read_mission(ctx, mission_id=mission.id)).status == "planned"
    with pytest.raises(NotFound, match="no plan version 3"):
        await read_plan(ctx, mission_id=mission.id, version=3)


async def test_a_canceled_mission_cannot_be_planned(ctx: ServiceContext) -> None:
    from missionctl.db.models import Mission

    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor="user:test")
    async with ctx.write() as session:
        row = await session.get(Mission, mission.id)
        assert row is not None
        row.status = "canceled"
    with pytest.raises(InvalidTransition, match="canceled"):
        await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner())


async def test_a_price_override_wins_over_the_bundled_price(ctx: ServiceContext) -> None:
    bundled = await read_price(ctx, model="gpt-4o-mini")
    assert bundled.source == "genai-prices" and bundled.input_usd_per_mtok == 0.15
    override = await set_price(
        ctx,
        data=PriceSet(
            model="gpt-4o-mini",
            input_usd_per_mtok=Decimal("0.2"),
            output_usd_per_mtok=Decimal("0.8"),
        ),
        actor="user:admin",
    )
    assert (override.source, override.input_usd_per_mtok, override.output_usd_per_mtok) == (
        "override",
        0.2,
        0.8,
    )
    assert override.cached_input_usd_per_mtok == 0.2
    with pytest.raises(NotFound, match="missionctl prices set"):
        await read_price(ctx, model="no-such-model")
    custom = await set_price(
        ctx,
        data=PriceSet(
            model="my-local-llama", input_usd_per_mtok=Decimal(0), output_usd_per_mtok=Decimal(0)
        ),
        actor="user:admin",
    )
    assert custom.source == "override"
