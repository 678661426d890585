"""``/api/v1/audit``: the audit explorer's run search and the export of a search (CSV, JSONL).

The run search's route is made from its declaration in ``missionctl.operations.audit``.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.api.routes.events import Filters as EventFilterQuery
from missionctl.domain.refusals import ORDER
from missionctl.operations.audit import OPERATIONS
from missionctl.schemas.events import (
    AuditRunFilterQuery,
    AuditRunFilters,
    ExportFormat,
    ExportKind,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import event_feed

router = APIRouter(route_class=GuardedRoute, tags=["audit"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def run_filters(query: Annotated[AuditRunFilterQuery, Query()]) -> AuditRunFilters:
    """The run search's filters from the query (422 names each one at fault and the fix)."""
    return query.filters()


RunFilterQuery = Annotated[AuditRunFilters, Depends(run_filters)]


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    dependencies=[requires(P.AUDIT_READ)],
    openapi_extra=refusals(ORDER),
    responses={
        200: {
            "content": {"text/csv": {}, "application/x-ndjson": {}},
            "description": "The search's rows, streamed",
        }
    },
)
async def export(
    ctx: Context,
    events: EventFilterQuery,
    runs: RunFilterQuery,
    format: Annotated[ExportFormat, Query(description="csv or jsonl")] = "csv",
    kind: Annotated[ExportKind, Query(description="events or runs")] = "events",
) -> StreamingResponse:
    """Every event (oldest first) or run (newest first) matching the filters, as CSV or JSONL.

    The filters are those of `GET /api/v1/events` (kind=events) or of `GET /api/v1/audit/runs`
    (kind=runs). The body is streamed a page at a time, so any size works.
    """
    chunks = (
        event_feed.export_events(ctx, filters=events, fmt=format)
        if kind == "events"
        else event_feed.export_runs(ctx, filters=runs, fmt=format)
    )
    name = f"missionctl-{kind}.{format}"
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
