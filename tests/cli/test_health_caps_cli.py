"""``missionctl health`` names the spending caps reached or at 80 % this period, both ways.

The lines are absent while no cap has announced a level in its current UTC period.
"""

import time
from decimal import Decimal

import pytest
from sqlalchemy import update

from missionctl.db.models import SpendingCap
from missionctl.db.types import utcnow
from missionctl.domain.spending_caps import Level, Period, period_start
from missionctl.schemas.spending_caps import SpendingCapSet
from missionctl.services import ServiceContext
from missionctl.services.usecases.spending_caps import list_caps, remove_cap, set_cap
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, world
from tests.cli.test_remote_cli import text

__all__ = ["world"]


async def _caps_announced(ctx: ServiceContext) -> None:
    """Two day caps: one reached, one at its warning, announced today (as the engine records)."""
    for agent, level in (("llm:*", Level.reached), ("coding:*", Level.warning)):
        data = SpendingCapSet(agent=agent, period=Period.day, cap_usd=Decimal("5"))
        cap = await set_cap(ctx, data=data, actor="user:test")
        async with ctx.write() as session:
            await session.execute(
                update(SpendingCap)
                .where(SpendingCap.id == cap.id)
                .values(
                    notified_period=period_start(Period.day, utcnow()),
                    notified_level=level.value,
                )
            )


async def _remove_all(ctx: ServiceContext) -> None:
    for cap in await list_caps(ctx):
        await remove_cap(ctx, cap_id=cap.id, actor="user:test")


@pytest.mark.parametrize("mode", MODES)
def test_health_names_the_caps_reached_and_at_80_percent(world: World, mode: str) -> None:
    time.sleep(1.1)  # the server keeps its figures a second
    quiet = text(ok(world.cli(mode, "health", token=world.viewer)))
    assert "caps reached" not in quiet and "caps at 80 %" not in quiet

    world.service(_caps_announced)
    try:
        time.sleep(1.1)
        figures = as_json(world.cli(mode, "health", "--json", token=world.viewer))
        assert (figures["caps_reached"], figures["caps_warning"]) == (1, 1)
        shown = text(ok(world.cli(mode, "health", token=world.viewer)))
        assert "caps reached 1 spending caps holding steps this period" in shown
        assert "caps at 80 % 1 spending caps 80 % spent this period" in shown
    finally:
        world.service(_remove_all)
