"""A mission's architecture and deployment diagrams (docs/diagrams.md, ADR 0057).

The local rules (``planning.diagrams.draw_local``) draw the same diagrams from the same mission
and plan, so they are drawn on request and never stored. A model draws them only when it
writes a technical design (``services.usecases.documents``), and that design keeps them: for a plan
version whose newest technical design was drawn by a model, ``read_diagrams`` shows the
model's drawing; otherwise the local one.
"""

import uuid
from dataclasses import dataclass

from missionctl.domain.diagrams import MissionDiagrams
from missionctl.llm import LLMClient
from missionctl.planning.base import PlanningInput
from missionctl.planning.diagrams import DrawnDiagrams, draw_local
from missionctl.planning.diagrams import draw_with_model as draw_by_model
from missionctl.repositories import documents as document_repo
from missionctl.schemas.diagrams import MissionDiagramsRead, mission_diagrams_from_read
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import plans as plan_service

DESIGN_KIND = "technical_design"


@dataclass(frozen=True, slots=True)
class PlanDiagrams:
    """A mission, the plan version drawn, and its diagrams."""

    mission: MissionRead
    plan: PlanRead
    diagrams: MissionDiagrams


def draw_plan(mission: MissionRead, plan: PlanRead) -> MissionDiagrams:
    """The diagrams the local rules draw of ``mission``'s ``plan`` (pure, deterministic)."""
    return draw_local(PlanningInput.from_mission(mission), plan, plan_version=plan.version)


async def draw_with_model(
    llm: LLMClient,
    mission: MissionRead,
    plan: PlanRead,
    *,
    timeout_s: float,
    max_tokens: int | None,
) -> DrawnDiagrams:
    """The model's drawing of ``plan``, or the local one with a note (never raises for it)."""
    return await draw_by_model(
        llm,
        PlanningInput.from_mission(mission),
        plan,
        plan_version=plan.version,
        timeout_seconds=timeout_s,
        max_tokens=max_tokens,
    )


async def read_diagrams(
    ctx: ServiceContext, *, mission_id: uuid.UUID, plan_version: int | None = None
) -> PlanDiagrams:
    """The diagrams of ``mission_id``'s plan ``plan_version`` (default: the newest).

    A model's drawing kept by the newest technical design of that plan version wins over the
    local rules' drawing.

    Raises:
        NotFound: no such mission (``field="mission_id"``) or plan version
            (``field="plan_version"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    mission, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=plan_version, lacking="so nothing to draw"
    )
    async with ctx.read() as session:
        stored = await document_repo.read_newest_diagrams(
            session, mission_id=mission_id, kind=DESIGN_KIND, plan_version=plan.version
        )
    if stored is not None:
        drawn = mission_diagrams_from_read(MissionDiagramsRead.model_validate(stored))
        if drawn.source != "local":
            return PlanDiagrams(mission=mission, plan=plan, diagrams=drawn)
    return PlanDiagrams(mission=mission, plan=plan, diagrams=draw_plan(mission, plan))
