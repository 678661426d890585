"""A mission's architecture and deployment diagrams (docs/diagrams.md, ADR 0053).

``read_diagrams`` draws the diagrams of one plan version (default: the newest) with the local
rules (``planning.diagrams.draw_local``): the same mission and plan always give the same
drawing, so nothing is stored for them.
"""

import uuid
from dataclasses import dataclass

from missionctl.domain.diagrams import MissionDiagrams
from missionctl.planning.base import PlanningInput
from missionctl.planning.diagrams import draw_local
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services import plans as plan_service
from missionctl.services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class PlanDiagrams:
    """A mission, the plan version drawn, and its diagrams."""

    mission: MissionRead
    plan: PlanRead
    diagrams: MissionDiagrams


async def read_diagrams(
    ctx: ServiceContext, *, mission_id: uuid.UUID, plan_version: int | None = None
) -> PlanDiagrams:
    """The diagrams of ``mission_id``'s plan ``plan_version`` (default: the newest).

    Raises:
        NotFound: no such mission (``field="mission_id"``) or plan version
            (``field="plan_version"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    mission, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=plan_version, lacking="so nothing to draw"
    )
    drawn = draw_local(PlanningInput.from_mission(mission), plan, plan_version=plan.version)
    return PlanDiagrams(mission=mission, plan=plan, diagrams=drawn)
