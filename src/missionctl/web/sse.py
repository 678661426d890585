"""The live stream of a page: Server-Sent Events whose data are rendered HTML fragments.

One stream per page (``hx-sse:connect`` in the template; htmx's ``hx-sse`` extension swaps each
message's ``<hx-partial>`` elements into place). Every event of the log becomes one message
whose ``id`` is the event's ``seq``:

- each message carries the event's Audit Trail line(s) (or its log lines on the run page);
- the last message of a batch also carries the page's state blocks (statuses, counters, graph
  colours, controls, the budget bar, the emergency-stop banner) re-rendered from the database,
  when the batch changed any state.

A browser that reconnects sends ``Last-Event-ID``; the stream resumes after it, so the page
ends with every event exactly once (ADR 0009). The first connection names its cursor with
``?after=`` (the newest event the page was rendered with).
"""

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from missionctl.schemas.dashboard import EventItem
from missionctl.services import ServiceContext, dashboard
from missionctl.services.controls import read_controls
from missionctl.web.templating import render_fragment, security_context

PING_S = 15
"""Seconds between keep-alive comments, so proxies keep an idle stream open."""

HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

# Events that change nothing but the log: a batch of only these needs no state re-render.
_LOG_ONLY = frozenset({"step.log"})


def resume_from(request: Request, after: int) -> int:
    """The cursor to resume from: ``Last-Event-ID`` when the browser reconnects, else ``after``."""
    return dashboard.resume_cursor(request.headers.get("last-event-id"), after)


State = Callable[[], Coroutine[Any, Any, dict[str, Any]]]
"""Reads the page's state and returns the context of its ``live_state`` block."""


async def _messages(
    ctx: ServiceContext,
    *,
    page: str,
    cursor: int,
    count: int,
    read_state: State,
    titles: dict[str, str],
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> AsyncIterator[ServerSentEvent]:
    async for batch in dashboard.follow_events(
        ctx, after_seq=cursor, mission_id=mission_id, run_id=run_id
    ):
        items = batch.items
        state: dict[str, Any] | None = None
        if any(item.type not in _LOG_ONLY for item in items):
            # A read cut short by the browser leaving would log driver warnings: let it finish.
            state = await dashboard.read_to_end(read_state())
            titles = state["titles"]
        for index, item in enumerate(items):
            count += 1
            last = index == len(items) - 1
            html = render_fragment(page, "live_event", _event_context(item, titles, count, last))
            if last and state is not None:
                state["artifacts_changed"] = any(i.type == "artifact.created" for i in items)
                html += render_fragment(page, "live_state", state)
            yield ServerSentEvent(data=html, id=str(item.seq))


def _event_context(item: EventItem, titles: dict[str, str], count: int, last: bool) -> Any:
    return {"event": item, "titles": titles, "event_count": count, "with_count": last}


def stream(messages: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    """The SSE response for ``messages`` (with keep-alive pings; never cached or buffered)."""
    return EventSourceResponse(messages, ping=PING_S, headers=HEADERS)


async def mission_stream(
    ctx: ServiceContext, request: Request, *, mission_id: uuid.UUID, after: int, page: str
) -> EventSourceResponse:
    """The live stream of a mission page after ``after`` (or the browser's ``Last-Event-ID``).

    Fragments are rendered for the request's identity (its controls) and session (its CSRF
    token), as the page itself was.

    Raises:
        NotFound: no such mission (before the stream starts, so the answer is a 404).
    """
    security = security_context(request)
    cursor = resume_from(request, after)

    async def read_state() -> dict[str, Any]:
        view = await dashboard.read_mission_view(ctx, mission_id=mission_id, audit_limit=0)
        titles = {t.key: t.title for t in view.tasks}
        return {"view": view, "titles": titles, "emergency": await read_controls(ctx), **security}

    first = await read_state()
    count = await dashboard.count_events(ctx, mission_id=mission_id, up_to=cursor)
    return stream(
        _messages(
            ctx,
            page=page,
            cursor=cursor,
            count=count,
            read_state=read_state,
            titles=first["titles"],
            mission_id=mission_id,
        )
    )


async def run_stream(
    ctx: ServiceContext, request: Request, *, run_id: uuid.UUID, after: int, page: str
) -> EventSourceResponse:
    """The live stream of a run page after ``after`` (or the browser's ``Last-Event-ID``).

    Fragments are rendered for the request's identity (its controls) and session (its CSRF
    token), as the page itself was.

    Raises:
        NotFound: no such run (before the stream starts, so the answer is a 404).
    """
    security = security_context(request)
    cursor = resume_from(request, after)

    async def read_state() -> dict[str, Any]:
        view = await dashboard.read_run_view(ctx, run_id=run_id)
        titles = {t.key: t.title for t in view.tasks}
        return {"view": view, "titles": titles, "emergency": await read_controls(ctx), **security}

    first = await read_state()
    count = await dashboard.count_events(ctx, run_id=run_id, up_to=cursor)
    return stream(
        _messages(
            ctx,
            page=page,
            cursor=cursor,
            count=count,
            read_state=read_state,
            titles=first["titles"],
            run_id=run_id,
        )
    )
