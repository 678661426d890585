"""``/api/v1/missions/{mission_id}/documents``: the document studio (ADR 0053).

Reading needs ``missions:read``; generating needs ``missions:write`` (a generation may spend
model tokens, charged to the mission). Versions are never edited: generating again adds one.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import Response

from missionctl.api.deps import Context, Identity, P, RuntimeDep, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.documents import (
    MAX_DOCUMENT_VERSION,
    DocumentCompareRead,
    DocumentCreate,
    DocumentKind,
    DocumentKindRead,
    DocumentRead,
    ExportFormat,
)
from missionctl.security.downloads import content_disposition
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import documents as document_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/missions", tags=["documents"], responses=ERROR_RESPONSES
)

Writer = Annotated[Identity, requires(P.MISSIONS_WRITE)]
Kind = Annotated[DocumentKind, Path(description="The kind of document, e.g. `prd`.")]
Version = Annotated[int, Path(ge=1, le=MAX_DOCUMENT_VERSION, description="1, 2, …")]
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


@router.post(
    "/{mission_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentRead,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
)
async def generate_document(
    mission_id: uuid.UUID, body: DocumentCreate, ctx: Context, who: Writer, runtime: RuntimeDep
) -> DocumentRead:
    """Write the mission's document of `kind` and store it as that kind's next version.

    The configured model writes it (within `MISSIONCTL_DOCUMENTS_MODEL_TIMEOUT_S` and the
    mission's budget); without one, or when it times out or fails, the local writer does, and
    `notes` say why. 409 when the mission has no plan yet (plan it first); 422 names a `kind`
    that does not exist.
    """
    return await document_service.generate_document(
        ctx, mission_id=mission_id, kind=body.kind, actor=who.actor, llm=runtime.llm
    )


@router.get(
    "/{mission_id}/documents",
    response_model=list[DocumentKindRead],
    dependencies=[requires(P.MISSIONS_READ)],
)
async def list_documents(mission_id: uuid.UUID, ctx: Context) -> list[DocumentKindRead]:
    """Every kind of document, what it is for, and the mission's versions of it, newest first."""
    return await document_service.list_documents(ctx, mission_id=mission_id)


@router.get(
    "/{mission_id}/documents/{kind}",
    response_model=DocumentRead,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def read_latest(mission_id: uuid.UUID, kind: Kind, ctx: Context) -> DocumentRead:
    """The latest version of the mission's `kind` document; 404 before one is generated."""
    return await document_service.read_document(ctx, mission_id=mission_id, kind=kind, version=None)


@router.get(
    "/{mission_id}/documents/{kind}/versions/{version}",
    response_model=DocumentRead,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def read_version(
    mission_id: uuid.UUID, kind: Kind, version: Version, ctx: Context
) -> DocumentRead:
    """One version of the mission's `kind` document; 404 names the `version` that is missing."""
    return await document_service.read_document(
        ctx, mission_id=mission_id, kind=kind, version=version
    )


@router.get(
    "/{mission_id}/documents/{kind}/versions/{version}/export",
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


@router.get(
    "/{mission_id}/documents/{kind}/compare",
    response_model=DocumentCompareRead,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def compare_versions(
    mission_id: uuid.UUID,
    kind: Kind,
    ctx: Context,
    base: Annotated[int, Query(ge=1, le=MAX_DOCUMENT_VERSION, description="The older version")],
    target: Annotated[
        int, Query(ge=1, le=MAX_DOCUMENT_VERSION, description="The version to compare it with")
    ],
) -> DocumentCompareRead:
    """Two versions compared line by line: each line `same`, `added` or `removed`."""
    return await document_service.compare_documents(
        ctx, mission_id=mission_id, kind=kind, base=base, target=target
    )
