"""A mission's architecture, deployment and product flow: a page, and the mission page's panel."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup

from missionctl.domain.diagram_svg import render_svg
from missionctl.domain.diagrams import DIAGRAM_NAMES
from missionctl.schemas.plans import MAX_PLAN_VERSION
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import diagrams as diagram_service
from missionctl.web.deps import Context, MissionId, P, requires, wants_fragment
from missionctl.web.templating import render

PAGE = "pages/diagrams.html"

router = APIRouter(route_class=GuardedRoute)


@router.get("/missions/{mission_id}/diagrams", dependencies=[requires(P.MISSIONS_READ)])
async def diagrams_page(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    plan_version: Annotated[int | None, Query(ge=1, le=MAX_PLAN_VERSION)] = None,
) -> Response:
    """The diagrams of a plan version (default: the newest); htmx gets the panel alone.

    Raises:
        NotFound: no such mission or plan version (a 404 page naming it).
        Conflict: the mission has no plan yet (a page saying to plan it first).
    """
    drawn = await diagram_service.read_diagrams(
        ctx, mission_id=mission_id, plan_version=plan_version
    )
    # The SVG escapes every text it draws (domain/diagram_svg.py): safe to embed as it is.
    svgs = {
        name: Markup(render_svg(drawn.diagram(name), element_id=f"diagram-{name}"))
        for name in DIAGRAM_NAMES
    }
    context = {"drawn": drawn, "svgs": svgs}
    block = "diagram_panel" if wants_fragment(request) else None
    return render(request, PAGE, context, block=block)
