"""The traceability page of a mission: its map as a graph, a table and a list of gaps."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from missionctl.schemas.plans import MAX_PLAN_VERSION, REQUIREMENT_KEY_PATTERN
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import tracemap as trace_service
from missionctl.web.deps import Context, MissionId, P, requires
from missionctl.web.templating import render
from missionctl.web.trace_graph import trace_svg
from missionctl.web.trace_table import clause_rows, trace_rows

PAGE = "pages/trace.html"

router = APIRouter(route_class=GuardedRoute)


@router.get("/missions/{mission_id}/trace", dependencies=[requires(P.MISSIONS_READ)])
async def trace_page(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    plan_version: Annotated[int | None, Query(ge=1, le=MAX_PLAN_VERSION)] = None,
    requirement: Annotated[str | None, Query(pattern=REQUIREMENT_KEY_PATTERN)] = None,
) -> Response:
    """The map of a plan version (default: the newest), or of one requirement's path.

    Raises:
        NotFound: no such mission, plan version or requirement (a 404 page naming it).
        Conflict: the mission has no plan yet (a page saying to plan it first).
    """
    trace = await trace_service.read_trace(
        ctx, mission_id=mission_id, plan_version=plan_version, requirement=requirement
    )
    context = {
        "trace": trace,
        "svg": trace_svg(trace.map),
        "rows": trace_rows(trace.map),
        "clauses": clause_rows(trace.map),
        "labels": {n.id: n.label for n in trace.map.nodes},
    }
    return render(request, PAGE, context)
