"""``GET /api/v1/missions/{mission_id}/pack``: the mission's AI execution pack, as a zip."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.plans import MAX_PLAN_VERSION
from missionctl.security.downloads import content_disposition
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import packs as pack_service

# Reading a pack is reading the mission and its plan: the same permission.
router = APIRouter(
    route_class=GuardedRoute,
    tags=["missions"],
    responses=ERROR_RESPONSES,
    dependencies=[requires(P.MISSIONS_READ)],
)

ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The pack as a zip (`AGENTS.md`, `tasks/NN-<key>.md`, `plan.json`), "
        "byte-identical for the same mission and plan version",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    },
}


@router.get(
    "/missions/{mission_id}/pack",
    response_class=Response,
    responses=ZIP_RESPONSES | CONFLICT_RESPONSES,
)
async def download_pack(
    mission_id: uuid.UUID,
    ctx: Context,
    plan_version: Annotated[
        int | None,
        Query(ge=1, le=MAX_PLAN_VERSION, description="The plan version; default: the newest"),
    ] = None,
) -> Response:
    """The mission's AI execution pack for a coding agent, as a zip to download.

    `AGENTS.md` (goal, constraints, stack, conventions, how to run and test, what not to touch,
    task order, requirements), one Markdown file per task in execution order, and `plan.json`
    (the plan as `GET /api/v1/missions/{mission_id}/plan` returns it); secrets redacted. 409
    when the mission has no plan yet (plan it first); 404 names the mission or the
    `plan_version` that does not exist.
    """
    pack = await pack_service.build_pack(ctx, mission_id=mission_id, plan_version=plan_version)
    return Response(
        content=pack_service.pack_zip(pack),
        media_type="application/zip",
        headers={
            "Content-Disposition": content_disposition(pack.zip_name),
            "X-Content-Type-Options": "nosniff",
        },
    )
