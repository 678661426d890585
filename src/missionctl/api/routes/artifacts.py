"""Artifacts and run reports.

Listing a run's or a mission's artifacts, describing one, its bytes and a run's receipt are made
from their declarations in ``missionctl.operations.artifacts``. A run's report is JSON or a file
by its ``format``: a route of its own. Every route here reads artifacts (``artifacts:read``).
"""

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.artifacts import OPERATIONS
from missionctl.schemas.reports import RunReport
from missionctl.security.downloads import (
    INERT_DOWNLOAD_HEADERS,
    content_disposition,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import reports as report_service

router = APIRouter(route_class=GuardedRoute, tags=["artifacts"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

_REPORT_FILES: dict[str, tuple[str, str]] = {
    "markdown": ("md", "text/markdown; charset=utf-8"),
    "pdf": ("pdf", "application/pdf"),
}
"""Each file format's extension and media type."""


@router.get(
    "/runs/{run_id}/report",
    response_model=RunReport,
    responses={200: {"content": {"text/markdown": {}, "application/pdf": {}}}},
)
async def get_run_report(
    run_id: uuid.UUID,
    ctx: Context,
    who: Annotated[Identity, requires(P.ARTIFACTS_READ)],
    format: Annotated[
        Literal["json", "markdown", "pdf"], Query(description="json, markdown or pdf")
    ] = "json",
    download: Annotated[
        bool, Query(description="Record a report.downloaded event (always for markdown and pdf)")
    ] = False,
) -> Response | RunReport:
    """The run's report, built from its current state: JSON, or Markdown or PDF to download.

    Fetching it as a file (Markdown, PDF, or `download=true`) records `report.downloaded`. The
    files are attachments served inert, as artifacts are (`nosniff`, a `sandbox` policy).
    """
    report = await report_service.build_run_report(ctx, run_id=run_id)
    if format in _REPORT_FILES or download:
        await report_service.record_download(ctx, report=report, actor=who.actor, format=format)
    if format not in _REPORT_FILES:
        return report
    extension, media_type = _REPORT_FILES[format]
    content: str | bytes = (
        # A long report's layout takes a while: off the event loop, as a document's export is.
        await asyncio.to_thread(report_service.render_report_pdf, report)
        if format == "pdf"
        else report_service.render_report_markdown(report)
    )
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(f"run-{run_id}-report.{extension}"),
            **INERT_DOWNLOAD_HEADERS,
        },
    )
