"""Service test helpers: an engine with the builtin specialists, missions run end to end."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select

from missionctl.agents.registry import AgentRegistry
from missionctl.agents.specialists import register_specialists
from missionctl.db.models import Event
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from tests.engine.helpers import wait_for_run

FAST = EngineConfig(concurrency=8, lease_s=5.0, heartbeat_s=0.5, poll_s=0.05)


def specialist_registry() -> AgentRegistry:
    """Diagnostics, ``command`` and the builtin specialists."""
    registry = AgentRegistry()
    register_specialists(registry)
    return registry


@asynccontextmanager
async def engine_running(
    ctx: ServiceContext, registry: AgentRegistry | None = None
) -> AsyncIterator[Engine]:
    """An engine working in the background with ``registry`` (default: the specialists)."""
    engine = Engine(ctx, registry or specialist_registry(), config=FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        yield engine
    finally:
        stop.set()
        await task
    assert engine.tick_failures == 0, "the engine's tick raised; see the log above"


async def run_goal(ctx: ServiceContext, data: MissionCreate) -> RunRead:
    """Create a mission, plan it locally, run it on the specialists; returns the ended run."""
    mission = await create_mission(ctx, data=data, actor="user:test")
    await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner())
    run = await run_mission(ctx, mission_id=mission.id, actor="user:test")
    async with engine_running(ctx):
        return await wait_for_run(ctx, run.id, within_s=60.0)


async def event_types(ctx: ServiceContext, run_id: uuid.UUID, type_: str) -> list[Event]:
    """The run's events of one type, in order."""
    async with ctx.read() as session:
        query = select(Event).where(Event.run_id == run_id, Event.type == type_)
        return list((await session.scalars(query.order_by(Event.seq))).all())
