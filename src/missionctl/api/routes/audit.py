"""``/api/v1/audit``: the audit explorer's run search and the export of a search (CSV, JSONL)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.api.routes.events import Filters as EventFilterQuery
from missionctl.domain.refusals import ORDER
from missionctl.domain.states import RunStatus
from missionctl.schemas.events import (
    FILTER_TEXT_MAX_CHARS,
    ISO_HINT,
    TIME_QUERY_SCHEMA,
    AuditRunFilters,
    ExportFormat,
    ExportKind,
    parse_filters,
)
from missionctl.schemas.paging import ID_CURSOR
from missionctl.schemas.runs import RunPage
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import event_feed
from missionctl.services.usecases.paging import MAX_PAGE_SIZE

router = APIRouter(
    route_class=GuardedRoute, prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES
)

Text = Annotated[str | None, Query(max_length=FILTER_TEXT_MAX_CHARS, pattern=r"^[^\x00]*$")]
# Read by the service (``schemas.events.iso_datetime``); the schema says what it accepts.
Time = Annotated[
    str | None, Query(max_length=64, description=ISO_HINT, json_schema_extra=TIME_QUERY_SCHEMA)
]

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def run_filters(
    workflow: Annotated[
        Text, Query(description="Runs of this workflow (name, any version)")
    ] = None,
    agent: Annotated[Text, Query(description="Runs in which this agent ran a step")] = None,
    actor: Annotated[Text, Query(description="Runs started by this actor")] = None,
    status: Annotated[RunStatus | None, Query()] = None,
    since: Annotated[Time, Query(description=f"Started at or after: {ISO_HINT}")] = None,
    until: Annotated[Time, Query(description=f"Started before: {ISO_HINT}")] = None,
) -> AuditRunFilters:
    """The run search's filters from the query (422 names each one at fault and the fix)."""
    raw = {
        "workflow": workflow,
        "agent": agent,
        "actor": actor,
        "status": status.value if status else None,
        "since": since,
        "until": until,
    }
    return parse_filters(AuditRunFilters, raw)


RunFilterQuery = Annotated[AuditRunFilters, Depends(run_filters)]


@router.get(
    "/runs",
    response_model=RunPage,
    dependencies=[requires(P.AUDIT_READ)],
    openapi_extra=refusals(ORDER),
)
async def search_runs(
    ctx: Context,
    filters: RunFilterQuery,
    # The runs list's page (``paging.keyset_cursor``), not the event feed's.
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`next_cursor` of the previous page",
            json_schema_extra={"pattern": ID_CURSOR},
        ),
    ] = None,
) -> RunPage:
    """Runs by workflow, agent, who started them, status and when they started; newest first.

    The events side of the audit search is `GET /api/v1/events`.
    """
    return await event_feed.search_runs(ctx, filters=filters, limit=limit, cursor=cursor)


@router.get(
    "/export",
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
