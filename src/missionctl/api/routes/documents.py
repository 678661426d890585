"""``/api/v1/missions/{mission_id}/documents``: the document studio (ADR 0053).

Generating, listing, reading and comparing documents are made from their declarations in
``missionctl.operations.documents``; exporting a version as a file, a download, is written
here. Reading needs ``missions:read``.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.documents import OPERATIONS, Kind, Version
from missionctl.schemas.documents import ExportFormat
from missionctl.security.downloads import content_disposition
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import documents as document_service

router = APIRouter(route_class=GuardedRoute, tags=["documents"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The version as a file: Markdown, a standalone sanitised HTML page, or "
        "a PDF of selectable text",
        "content": {
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/missions/{mission_id}/documents/{kind}/versions/{version}/export",
    response_class=Response,
    responses=EXPORT_RESPONSES,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def export_version(
    mission_id: uuid.UUID,
    kind: Kind,
    version: Version,
    ctx: Context,
    format: Annotated[ExportFormat, Query(description="`md` (the body), `html` or `pdf`")] = "md",
) -> Response:
    """One version as a file to download: `md`, `html` (standalone, sanitised) or `pdf`."""
    exported = await document_service.export_document(
        ctx, mission_id=mission_id, kind=kind, version=version, fmt=format
    )
    return Response(
        content=exported.content,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": content_disposition(exported.file_name),
            "X-Content-Type-Options": "nosniff",
        },
    )
