"""A mission's architecture, deployment and product-flow diagrams (docs/diagrams.md, ADR 0057).

The local rules (``planning.diagrams.draw_local``) draw the same diagrams from the same mission
and plan, so they are drawn on request and never stored. A model draws the architecture and
deployment only when it writes a technical design (``services.usecases.documents``), and that
design keeps them: for a plan version whose newest technical design was drawn by a model,
``read_diagrams`` shows the model's drawing of those two; otherwise the local one. The product
flow is always the local rules' (``planning.product_flow``): it quotes the mission's own words,
which a model's drawing could not be held to.
"""

import uuid
from dataclasses import dataclass, replace

from missionctl.domain.diagram_svg import render_svg
from missionctl.domain.diagrams import Diagram, DiagramName, MissionDiagrams
from missionctl.domain.files import FileAnswer
from missionctl.llm import LLMClient
from missionctl.planning.base import PlanningInput
from missionctl.planning.diagrams import DrawnDiagrams, draw_local
from missionctl.planning.diagrams import draw_with_model as draw_by_model
from missionctl.planning.product_flow import draw_product_flow
from missionctl.repositories import documents as document_repo
from missionctl.schemas.diagrams import (
    MissionDiagramsRead,
    PlanDiagramsRead,
    mission_diagrams_from_read,
    plan_diagrams_read,
)
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import plans as plan_service

DESIGN_KIND = "technical_design"
LOCAL_FLOW_NOTE = (
    "Drawn by the local rules from the mission's own words, as every product flow is: the "
    "model drew the architecture and deployment only."
)


@dataclass(frozen=True, slots=True)
class PlanDiagrams:
    """A mission, the plan version drawn, its system diagrams and its product flow."""

    mission: MissionRead
    plan: PlanRead
    diagrams: MissionDiagrams
    product_flow: Diagram

    def diagram(self, name: DiagramName) -> Diagram:
        """The diagram called ``name``."""
        return self.product_flow if name == "product_flow" else self.diagrams.by_name(name)


def draw_plan(mission: MissionRead, plan: PlanRead) -> MissionDiagrams:
    """The diagrams the local rules draw of ``mission``'s ``plan`` (pure, deterministic)."""
    return draw_local(PlanningInput.from_mission(mission), plan, plan_version=plan.version)


def draw_flow(mission: MissionRead, plan: PlanRead) -> Diagram:
    """The product flow the local rules draw of ``mission``'s ``plan`` (pure, deterministic)."""
    return draw_product_flow(PlanningInput.from_mission(mission), plan)


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
    local rules' drawing of the architecture and deployment; the product flow is the local
    rules' either way, and says so in its notes when a model drew the others.

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
    flow = draw_flow(mission, plan)
    if stored is not None:
        drawn = mission_diagrams_from_read(MissionDiagramsRead.model_validate(stored))
        if drawn.source != "local":
            flow = replace(flow, notes=(*flow.notes, LOCAL_FLOW_NOTE))
            return PlanDiagrams(mission=mission, plan=plan, diagrams=drawn, product_flow=flow)
    local = draw_plan(mission, plan)
    return PlanDiagrams(mission=mission, plan=plan, diagrams=local, product_flow=flow)


async def diagram_svg(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    name: DiagramName,
    plan_version: int | None = None,
) -> FileAnswer:
    """One diagram of :func:`read_diagrams` as a standalone SVG file, shown in place.

    Raises:
        NotFound | Conflict: as :func:`read_diagrams`.
    """
    drawn = await read_diagrams(ctx, mission_id=mission_id, plan_version=plan_version)
    svg = render_svg(drawn.diagram(name), element_id=name)
    file_name = f"{name}-v{drawn.plan.version}.svg"
    return FileAnswer(svg.encode("utf-8"), "image/svg+xml", name=file_name, inline=True)


async def read_plan_diagrams(
    ctx: ServiceContext, *, mission_id: uuid.UUID, plan_version: int | None = None
) -> PlanDiagramsRead:
    """The diagrams of :func:`read_diagrams`, as ``GET /api/v1/missions/{id}/diagrams`` answers.

    Raises:
        NotFound | Conflict: as :func:`read_diagrams`.
    """
    drawn = await read_diagrams(ctx, mission_id=mission_id, plan_version=plan_version)
    return plan_diagrams_read(mission_id, drawn.diagrams, drawn.product_flow)
