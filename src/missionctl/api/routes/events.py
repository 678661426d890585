"""``/api/v1/events``: the event log, filtered, as pages and as a live Server-Sent Events stream."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.events import SEVERITIES
from missionctl.domain.refusals import ORDER
from missionctl.schemas.events import (
    EVENT_TYPE_MAX_CHARS,
    FILTER_TEXT_MAX_CHARS,
    ISO_HINT,
    MAX_FEED_PAGE,
    TIME_QUERY_SCHEMA,
    TYPE_PATTERN,
    EventFeedPage,
    EventFilters,
    parse_filters,
)
from missionctl.security.guard import GuardedRoute
from missionctl.security.streams import while_admitted
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.event_feed import read_event_feed, to_feed_item

router = APIRouter(
    route_class=GuardedRoute, prefix="/events", tags=["events"], responses=ERROR_RESPONSES
)

MAX_SEQ = dashboard.MAX_SEQ
PING_S = 15
"""Seconds between keep-alive comments of the stream, so proxies keep it open."""

Text = Annotated[str | None, Query(max_length=FILTER_TEXT_MAX_CHARS, pattern=r"^[^\x00]*$")]
# Read by the service (``schemas.events.iso_datetime``); the schema says what it accepts.
Time = Annotated[
    str | None, Query(max_length=64, description=ISO_HINT, json_schema_extra=TIME_QUERY_SCHEMA)
]


def event_filters(
    type: Annotated[
        list[str] | None,
        Query(
            description="An event type, or a prefix ending with a dot (`step.`); repeat for "
            "several (any matches).",
            # For the document: ``parse_filters`` checks each against it and words the 422.
            json_schema_extra={
                "items": {
                    "type": "string",
                    "pattern": TYPE_PATTERN,
                    "maxLength": EVENT_TYPE_MAX_CHARS,
                }
            },
        ),
    ] = None,
    run_id: Annotated[uuid.UUID | None, Query(description="Events of this run")] = None,
    mission_id: Annotated[uuid.UUID | None, Query(description="Events of this mission")] = None,
    workflow: Annotated[Text, Query(description="Events of runs of this workflow (name)")] = None,
    agent: Annotated[Text, Query(description="Events of steps run by this agent")] = None,
    actor: Annotated[Text, Query(description="Events recorded by this actor")] = None,
    severity: Annotated[
        list[str] | None,
        Query(
            description="info, success, warning or error; repeat for several (any matches)",
            json_schema_extra={
                "items": {"type": "string", "enum": list(SEVERITIES)},
                "maxItems": len(SEVERITIES),
            },
        ),
    ] = None,
    since: Annotated[Time, Query(description=f"At or after this time: {ISO_HINT}")] = None,
    until: Annotated[Time, Query(description=f"Before this time: {ISO_HINT}")] = None,
) -> EventFilters:
    """The feed's filters from the query (422 names each one at fault and the fix)."""
    raw = {
        "type": type,
        "run_id": str(run_id) if run_id else None,
        "mission_id": str(mission_id) if mission_id else None,
        "workflow": workflow,
        "agent": agent,
        "actor": actor,
        "severity": severity,
        "since": since,
        "until": until,
    }
    return parse_filters(EventFilters, raw)


Filters = Annotated[EventFilters, Depends(event_filters)]


@router.get(
    "",
    response_model=EventFeedPage,
    dependencies=[requires(P.RUNS_READ)],
    openapi_extra=refusals(ORDER),
)
async def list_events(
    ctx: Context,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="Events older than this seq")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="Events newer than this seq")
    ] = None,
) -> EventFeedPage:
    """Events of the log, newest first, with keyset paging by `seq`; the filters combine with AND.

    Page back with `before=next_before`; poll for newer events with `after=newest`. 422 names
    the field at fault: a malformed id or type, a time not in ISO 8601, `since` after `until`,
    a `limit` out of 1..500.
    """
    return await read_event_feed(ctx, filters=filters, before=before, after=after, limit=limit)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    dependencies=[requires(P.RUNS_READ)],
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream_events(
    request: Request,
    ctx: Context,
    filters: Filters,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="Start after this seq (default: the newest event)"),
    ] = None,
    last_event_id: Annotated[
        str | None, Header(max_length=32, description="Resume after this seq (reconnection)")
    ] = None,
) -> EventSourceResponse:
    """The events matching the filters, live, as Server-Sent Events (`data:` one JSON event).

    Each message's `id` is the event's `seq`; a client that reconnects with `Last-Event-ID`
    resumes right after it, so it receives every matching event exactly once. Without
    `after`, the stream starts with the events appended after it opened. The stream ends within
    10 seconds once its token is revoked or expired (or its session ended); reconnecting is then
    refused.
    """
    start = after if after is not None else await dashboard.read_head_seq(ctx)
    cursor = dashboard.resume_cursor(last_event_id, start)

    async def messages() -> AsyncIterator[ServerSentEvent]:
        async for batch in dashboard.follow_events(ctx, after_seq=cursor, filters=filters):
            for item in batch.items:
                yield ServerSentEvent(data=to_feed_item(item).model_dump_json(), id=str(item.seq))

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    # Ends when the token (or session) asking stops letting it in (security.streams).
    return EventSourceResponse(while_admitted(request, messages()), ping=PING_S, headers=headers)
