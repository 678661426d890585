"""``GET /api/v1/missions/{mission_id}/trace``: the mission's traceability map, as JSON."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.plans import MAX_PLAN_VERSION, REQUIREMENT_KEY_PATTERN
from missionctl.schemas.tracemap import TraceMapRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import tracemap as trace_service

# Reading the map is reading the mission and its plan: the same permission.
router = APIRouter(
    route_class=GuardedRoute,
    tags=["missions"],
    responses=ERROR_RESPONSES,
    dependencies=[requires(P.MISSIONS_READ)],
)


@router.get("/missions/{mission_id}/trace", responses=CONFLICT_RESPONSES)
async def read_trace(
    mission_id: uuid.UUID,
    ctx: Context,
    plan_version: Annotated[
        int | None,
        Query(ge=1, le=MAX_PLAN_VERSION, description="The plan version; default: the newest"),
    ] = None,
    requirement: Annotated[
        str | None,
        Query(
            pattern=REQUIREMENT_KEY_PATTERN,
            description="Keep only this requirement's path (e.g. R2): its tasks, their "
            "artifacts, risks and decisions",
        ),
    ] = None,
) -> TraceMapRead:
    """The mission's traceability map: goal → requirements → tasks → artifacts, and its gaps.

    Nodes, edges (traces, depends_on, produced, mitigates, concerns) and coverage gaps, each
    with what is missing and the fix: a requirement no task traces, a task that traces
    nothing, a task that succeeded without an artifact, a high or critical risk without a
    mitigation task. 409 when the mission has no plan yet (plan it first); 404 names the
    mission, the `plan_version` or the `requirement` that does not exist.
    """
    trace = await trace_service.read_trace(
        ctx, mission_id=mission_id, plan_version=plan_version, requirement=requirement
    )
    return trace_service.to_trace_read(trace)
