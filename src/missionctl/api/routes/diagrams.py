"""A mission's architecture, deployment and product-flow diagrams: as JSON, or each as SVG."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.diagram_svg import render_svg
from missionctl.domain.diagrams import DiagramName
from missionctl.schemas.diagrams import PlanDiagramsRead, plan_diagrams_read
from missionctl.schemas.plans import MAX_PLAN_VERSION
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import diagrams as diagram_service

# Reading the diagrams is reading the mission and its plan: the same permission.
router = APIRouter(
    route_class=GuardedRoute,
    tags=["missions"],
    responses=ERROR_RESPONSES,
    dependencies=[requires(P.MISSIONS_READ)],
)

PlanVersion = Annotated[
    int | None,
    Query(ge=1, le=MAX_PLAN_VERSION, description="The plan version; default: the newest"),
]


@router.get("/missions/{mission_id}/diagrams", responses=CONFLICT_RESPONSES)
async def read_diagrams(
    mission_id: uuid.UUID, ctx: Context, plan_version: PlanVersion = None
) -> PlanDiagramsRead:
    """The architecture, deployment and product flow of what the mission's plan builds.

    Each diagram has its columns (`groups`), components (with the plan tasks that build
    them), connections and notes. The product flow is the journey of the software's user,
    a step per box, always drawn by the local rules from the mission's own words. 409 when
    the mission has no plan yet (plan it first); 404 names the mission or the `plan_version`
    that does not exist.
    """
    drawn = await diagram_service.read_diagrams(
        ctx, mission_id=mission_id, plan_version=plan_version
    )
    return plan_diagrams_read(mission_id, drawn.diagrams, drawn.product_flow)


@router.get(
    "/missions/{mission_id}/diagrams/{name}.svg",
    responses={**CONFLICT_RESPONSES, 200: {"content": {"image/svg+xml": {}}}},
    response_class=Response,
)
async def read_diagram_svg(
    mission_id: uuid.UUID, name: DiagramName, ctx: Context, plan_version: PlanVersion = None
) -> Response:
    """One diagram (`architecture`, `deployment` or `product_flow`) as a standalone SVG file.

    Any other name is refused (422, naming `name` and the names there are).
    """
    drawn = await diagram_service.read_diagrams(
        ctx, mission_id=mission_id, plan_version=plan_version
    )
    svg = render_svg(drawn.diagram(name), element_id=name)
    filename = f"{name}-v{drawn.plan.version}.svg"
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
