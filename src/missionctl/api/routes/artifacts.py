"""Artifacts and run reports: the downloads.

Listing a run's or a mission's artifacts and describing one are made from their declarations
in ``missionctl.operations.artifacts``. Every route here reads artifacts (``artifacts:read``).
"""

import asyncio
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.eventlog.receipts import receipt_text
from missionctl.operations.artifacts import OPERATIONS
from missionctl.schemas.errors import ErrorBody
from missionctl.schemas.reports import RunReport
from missionctl.security.downloads import (
    INERT_DOWNLOAD_HEADERS,
    content_disposition,
    served_media_type,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import artifacts as artifact_service
from missionctl.services.usecases import receipts as receipt_service
from missionctl.services.usecases import reports as report_service

router = APIRouter(route_class=GuardedRoute, tags=["artifacts"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

# The bytes are sent with the artifact's own media type when it is a passive one (text/markdown,
# application/json, image/png…), else as application/octet-stream (security.downloads): the
# schema says "any type" for those and binary for the generic one. Every error, whatever the
# artifact's type, is the JSON error shape.
CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bytes, as an attachment, with the artifact's own `media_type` when "
        "it is a passive one (plain text, Markdown, CSV, a diff, JSON, a ZIP or gzip file, a "
        "PNG, JPEG, GIF or WebP image) and `application/octet-stream` otherwise (scripts, "
        "HTML, SVG…); never sniffed (`X-Content-Type-Options: nosniff`) and sandboxed "
        "(`Content-Security-Policy: sandbox`)",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "*/*": {"schema": {}},
        },
    },
    500: {"model": ErrorBody, "description": "The stored content is missing or damaged"},
}


@router.get(
    "/artifacts/{artifact_id}/content",
    response_class=Response,
    responses=CONTENT_RESPONSES,
    dependencies=[requires(P.ARTIFACTS_READ)],
)
async def download_artifact(artifact_id: uuid.UUID, ctx: Context) -> Response:
    """The artifact's bytes as an attachment, streamed, served inert whatever they are.

    A passive media type is kept; any other (a script, HTML, SVG) is sent as
    `application/octet-stream`, with `nosniff` and a `sandbox` content security policy.
    """
    artifact, chunks = await artifact_service.open_artifact_content(ctx, artifact_id=artifact_id)
    # Streamed a chunk at a time from the blob store (a directory or a bucket, ADR 0114); the
    # length is announced, so a download cut off for a digest that does not match is seen
    # as incomplete.
    return StreamingResponse(
        chunks,
        media_type=served_media_type(artifact.media_type),
        headers={
            "Content-Disposition": content_disposition(artifact.name),
            "Content-Length": str(artifact.size),
            **INERT_DOWNLOAD_HEADERS,
        },
    )


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


@router.get(
    "/runs/{run_id}/receipt",
    response_model=dict[str, Any],
    responses={200: {"description": "The receipt (`missionctl-run-receipt/1`), as JSON"}},
    dependencies=[requires(P.ARTIFACTS_READ)],
)
async def get_run_receipt(
    run_id: uuid.UUID,
    ctx: Context,
    download: Annotated[bool, Query(description="Send it as a file to save")] = False,
) -> Response:
    """The run's receipt, signed now with the audit signing key.

    It holds the run's entries of the hash chain, its steps' output digests, its artifacts'
    hashes and its approvals. Anyone with the public key (`missionctl audit public-key`)
    checks it offline with `missionctl verify receipt FILE --public-key KEY`. A run whose
    events or stored outputs disagree with the chain gets no receipt: a 500, since the
    server's own record is damaged (the log says why; `missionctl audit verify` says where).
    """
    document = await receipt_service.issue_receipt(ctx, run_id=run_id)
    headers = dict(INERT_DOWNLOAD_HEADERS)
    if download:
        headers["Content-Disposition"] = content_disposition(f"run-{run_id}-receipt.json")
    return Response(content=receipt_text(document), media_type="application/json", headers=headers)
