"""A mission's diagram as a standalone SVG file: a download, written here.

The diagrams as JSON are made from their declaration in ``missionctl.operations.missions``.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.diagram_svg import render_svg
from missionctl.domain.diagrams import DiagramName
from missionctl.schemas.plans import MAX_PLAN_VERSION
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import diagrams as diagram_service

# Reading a diagram is reading the mission and its plan: the same permission.
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
