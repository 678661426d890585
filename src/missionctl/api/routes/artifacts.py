"""Artifacts and run reports: list, describe, download."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.schemas.reports import RunReport
from missionctl.services import artifacts as artifact_service
from missionctl.services import reports as report_service

# Every route here reads artifacts; the declaration covers the whole router.
router = APIRouter(
    tags=["artifacts"], responses=ERROR_RESPONSES, dependencies=[requires(P.ARTIFACTS_READ)]
)


@router.get("/runs/{run_id}/artifacts", response_model=list[ArtifactRead])
async def list_run_artifacts(run_id: uuid.UUID, ctx: Context) -> list[ArtifactRead]:
    """Every artifact a run produced (reports included), oldest first."""
    return await artifact_service.read_artifacts(ctx, run_id=run_id)


@router.get("/missions/{mission_id}/artifacts", response_model=list[ArtifactRead])
async def list_mission_artifacts(mission_id: uuid.UUID, ctx: Context) -> list[ArtifactRead]:
    """Every artifact of every run of a mission, oldest first."""
    return await artifact_service.read_artifacts(ctx, mission_id=mission_id)


@router.get("/artifacts/{artifact_id}", response_model=ArtifactRead)
async def get_artifact(artifact_id: uuid.UUID, ctx: Context) -> ArtifactRead:
    """An artifact's description."""
    return await artifact_service.read_artifact(ctx, artifact_id=artifact_id)


@router.get(
    "/artifacts/{artifact_id}/content",
    response_class=Response,
    responses={
        200: {
            "description": "The bytes, served with the artifact's own `media_type`",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def download_artifact(artifact_id: uuid.UUID, ctx: Context) -> Response:
    """The artifact's bytes, with its media type, as a download."""
    artifact, content = await artifact_service.read_artifact_content(ctx, artifact_id=artifact_id)
    return Response(
        content=content,
        media_type=artifact.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{artifact.name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/runs/{run_id}/report",
    response_model=RunReport,
    responses={200: {"content": {"text/markdown": {}}}},
)
async def get_run_report(
    run_id: uuid.UUID,
    ctx: Context,
    format: Annotated[Literal["json", "markdown"], Query(description="json or markdown")] = "json",
) -> Response | RunReport:
    """The run's report, built from its current state (JSON, or Markdown to download)."""
    report = await report_service.build_run_report(ctx, run_id=run_id)
    if format == "markdown":
        return Response(
            content=report_service.render_report_markdown(report),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="run-{run_id}-report.md"'},
        )
    return report
