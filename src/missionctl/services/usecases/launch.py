"""Launching a mission from the dashboard: which planner plans it, and create-then-plan.

These are writes (a mission is created, a plan stored), kept out of the dashboard's read
models (``services.usecases.dashboard``), which only gather what a page shows.
"""

import contextlib

from missionctl.errors import LLMOutputInvalid, LLMUnavailable, ValidationFailed
from missionctl.planning import LocalPlanner, Planner, PlanRejected
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.services.runtime.composition import Runtime
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service

_PLANNING_FAILURES = (PlanRejected, LLMOutputInvalid, LLMUnavailable, ValidationFailed)


def planner_for(runtime: Runtime, *, use_model: bool) -> Planner:
    """The model's planner when asked for and configured, else the local one."""
    return runtime.planner if use_model and runtime.llm is not None else LocalPlanner()


async def launch_mission(
    ctx: ServiceContext, *, data: MissionCreate, actor: str, planner: Planner
) -> MissionRead:
    """Create a mission and plan it at once ("New mission" in the dashboard).

    A planner that gives up does not undo the mission: ``plan_mission`` records why (the
    mission is then ``failed`` with a ``plan.rejected`` event) and the mission page shows it.

    Returns:
        The mission as it is after planning (``planned``, ``failed``, or ``needs_clarification``
        when the planner asked questions instead).
    """
    mission = await mission_service.create_mission(ctx, data=data, actor=actor)
    # A failure is recorded by plan_mission and shown on the mission page.
    with contextlib.suppress(*_PLANNING_FAILURES):
        await plan_service.plan_mission(ctx, mission_id=mission.id, actor=actor, planner=planner)
    return await mission_service.read_mission(ctx, mission_id=mission.id)
