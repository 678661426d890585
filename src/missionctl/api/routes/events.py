"""``/api/v1/events``: the event log, filtered, as pages and as a live Server-Sent Events stream.

The pages' route is made from its declaration in ``missionctl.operations.events``.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.events import OPERATIONS
from missionctl.schemas.events import EventFilterQuery, EventFilters
from missionctl.security.guard import GuardedRoute
from missionctl.security.streams import while_admitted
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.event_feed import to_feed_item

router = APIRouter(route_class=GuardedRoute, tags=["events"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

MAX_SEQ = dashboard.MAX_SEQ
PING_S = 15
"""Seconds between keep-alive comments of the stream, so proxies keep it open."""


def event_filters(query: Annotated[EventFilterQuery, Query()]) -> EventFilters:
    """The feed's filters from the query (422 names each one at fault and the fix)."""
    return query.filters()


Filters = Annotated[EventFilters, Depends(event_filters)]


@router.get(
    "/events/stream",
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
