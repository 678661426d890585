"""``/api/v1/missions/{mission_id}/decisions`` and ``…/risks``: the decision log and risk register.

Every route here but the ADR export is made from its declaration in
``missionctl.operations.register``; the export is a zip download, written here.
"""

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.register import OPERATIONS
from missionctl.security.downloads import content_disposition
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import decision_export

router = APIRouter(
    route_class=GuardedRoute, tags=["decisions and risks"], responses=ERROR_RESPONSES
)
for operation in OPERATIONS:
    add_route(router, operation)

ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One ADR Markdown file per decision (`NNNN-title.md`), zipped",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/missions/{mission_id}/adrs",
    response_class=Response,
    responses=ZIP_RESPONSES,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def export_decisions(mission_id: uuid.UUID, ctx: Context) -> Response:
    """The decision log as ADR Markdown files, one per decision, in a zip to download."""
    files = await decision_export.adr_files(ctx, mission_id=mission_id)
    return Response(
        content=decision_export.zip_files(files),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition(f"mission-{mission_id}-adr.zip")},
    )
