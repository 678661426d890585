"""The live stream of a list page (Missions, Runs): the list re-rendered when the log says so.

A list page opens one stream (``hx-sse:connect`` on its ``#live`` element, as the mission and
run pages do; ADR 0009). The stream follows the whole event log after the page's cursor and,
for each batch holding an event that can change a row (a mission, plan, run or step event;
log lines cannot), reads the list again with the page's own filters and page and sends it as
one message of ``<hx-partial>`` elements: the list and its count. The message's ``id`` is the
batch's last ``seq``, so a reconnection resumes after it.

A busy engine appends many such events a second; the list is re-rendered at most once every
``LIST_EVERY_S``: a batch that comes sooner is owed, and its render goes out when the interval
ends, from what every event since then left, so the newest list always arrives (the mission and
run pages pace their state the same way, ``web/sse.py``).

Rows are never patched one by one: the list is read again, so a run that no longer matches the
status filter leaves it, one that starts matching enters it, and a page further back (a
``cursor``) keeps its rows (newer runs belong to the first page).

Changing the filters or the page swaps in a new ``#live`` element whose URL carries them: htmx
closes the old stream as the element leaves and the new element connects.
"""

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from missionctl.schemas.dashboard import EventItem
from missionctl.security.streams import until_due
from missionctl.services import ServiceContext
from missionctl.services.usecases import dashboard
from missionctl.web.sse import resume_from, stream

MISSION_LIST_EVENTS = ("mission.", "plan.", "run.", "step.", "budget.")
"""Prefixes of the event types that can change a row of the missions list."""

RUN_LIST_EVENTS = ("run.", "step.", "budget.", "mission.")
"""Prefixes of the event types that can change a row of the runs list."""

LIST_EVERY_S = 1.0
"""The shortest time between two re-renders of a list (each reads the list from the database)."""

# A log batch, and a draft of a plan being written (its mission's row shows it planning already).
_NEVER = frozenset({"step.log", "plan.drafted"})

RenderList = Callable[[], Coroutine[Any, Any, str]]
"""Reads the list with the page's filters and renders its stream message."""


def changes_list(item: EventItem, prefixes: tuple[str, ...]) -> bool:
    """Whether ``item`` can change a row of a list whose events start with ``prefixes``."""
    return item.type not in _NEVER and item.type.startswith(prefixes)


async def _messages(
    ctx: ServiceContext, *, cursor: int, render_list: RenderList, prefixes: tuple[str, ...]
) -> AsyncIterator[ServerSentEvent]:
    loop = asyncio.get_running_loop()
    sent_at = -math.inf
    owed: int | None = None  # the newest seq whose change the browser has not been sent

    def due() -> float | None:
        return None if owed is None else sent_at + LIST_EVERY_S

    events = dashboard.follow_events(ctx, after_seq=cursor)
    async for batch in until_due(events, due):
        if batch is not None and any(changes_list(item, prefixes) for item in batch.items):
            owed = batch.items[-1].seq
        if owed is not None and loop.time() >= sent_at + LIST_EVERY_S:
            # A read cut short by the browser leaving would log driver warnings: let it finish.
            html = await dashboard.read_to_end(render_list())
            sent_at = loop.time()
            yield ServerSentEvent(data=html, id=str(owed))
            owed = None


async def list_stream(
    ctx: ServiceContext,
    request: Request,
    *,
    after: int,
    render_list: RenderList,
    prefixes: tuple[str, ...],
) -> EventSourceResponse:
    """The live stream of a list page after ``after`` (or the browser's ``Last-Event-ID``).

    The list is read once before the stream starts, so filters or a cursor the list refuses
    are a 422 answer rather than a stream that fails.

    Raises:
        ValidationFailed: what reading the list raises.
    """
    await render_list()
    cursor = resume_from(request, after)
    messages = _messages(ctx, cursor=cursor, render_list=render_list, prefixes=prefixes)
    return stream(request, messages)
