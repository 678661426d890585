"""The live stream of a page: Server-Sent Events whose data are rendered HTML fragments.

One stream per page (``hx-sse:connect`` in the template; htmx's ``hx-sse`` extension swaps each
message's ``<hx-partial>`` elements into place). Every event of the log becomes one message
whose ``id`` is the event's ``seq`` and whose data are the event's Audit Trail line(s) (or its
log lines on the run page).

The page's state blocks (statuses, counters, graph colours, controls, the budget bar, the
emergency-stop banner; the run page's costs and timeline) are re-rendered from the database
when events changed the state, at most once every ``STATE_EVERY_S`` (ADR 0049), once for the
viewers of a role who share the read, and each viewer is sent only the parts that changed
(``web/live_state.py``, ADR 0109):

- when the last re-render is that old, the state rides on the last message of the batch;
- otherwise it is sent when the interval ends, in a message of its own without an ``id`` (it
  carries no event), rendered from what all the events since then left. A burst of events (a
  run of many steps) costs a viewer at most two reads a second, and the newest state always
  arrives.

What moves with the clock (the run page's timeline while a step runs: its bar ends at "now")
is redrawn from the last state every ``TICK_S`` while no event comes, without a database read.

A slow viewer slows only its own stream: events are read at most one batch ahead of what was
sent, so the broadcaster drops a viewer that falls behind and its stream catches up from the
database once it reads again (ADR 0009), its backlog's state read once.

A browser that reconnects sends ``Last-Event-ID``; the stream resumes after it, so the page
ends with every event exactly once (ADR 0009), and its first message is the page's state: the
events before the break may have reached the browser while the state they changed was still
held back, and no later event may come to carry it. The first connection names its cursor
with ``?after=`` (the newest event the page was rendered with).
"""

import asyncio
import math
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from missionctl.schemas.dashboard import EventItem
from missionctl.security.streams import until_due, while_admitted
from missionctl.services import ServiceContext
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.controls import read_controls
from missionctl.web.live_state import RENDERS, SentParts, render_state
from missionctl.web.page_reads import page_reads
from missionctl.web.templating import render_fragment, security_context

PING_S = 15
"""Seconds between keep-alive comments, so proxies keep an idle stream open."""

STATE_EVERY_S = 0.5
"""The shortest time between two re-renders of a page's state (each reads the database)."""

TICK_S = 1.0
"""How often what moves with the clock is redrawn while no event comes."""

HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

# Events that change nothing the page's state shows (a log batch, a report fetched as a file):
# a batch of only these needs no state re-render. Re-rendering for a download would also
# redraw the controls under a menu the reader still has open.
_STATELESS = frozenset({"step.log", "report.downloaded"})


def resume_from(request: Request, after: int) -> int:
    """The cursor to resume from: ``Last-Event-ID`` when the browser reconnects, else ``after``."""
    return dashboard.resume_cursor(request.headers.get("last-event-id"), after)


def _resumed(request: Request) -> bool:
    """Whether ``request`` is a browser reconnecting (it names the last event it received)."""
    return dashboard.resume_cursor(request.headers.get("last-event-id"), -1) != -1


State = Callable[[int], Coroutine[Any, Any, dict[str, Any]]]
"""Reads the page's state and returns the context of its ``live_state`` block: from a read that
started after the event it is given (a ``seq``) was known, maybe shared (``web/page_reads.py``)."""

Tick = Callable[[dict[str, Any]], str | None]
"""From the page's last state, the message that redraws what moves with the clock; ``None``
when nothing does (the stream then stops ticking until it reads the state again)."""


class _Pacer:
    """The messages of one page's stream: each event at once, the state at a bounded rate."""

    def __init__(
        self,
        *,
        page: str,
        read_state: State,
        state: dict[str, Any],
        tick: Tick | None,
        count: int,
        cursor: int,
        resumed: bool,
    ) -> None:
        self._page = page
        self._read_state = read_state
        self._state = state  # the last state read (the first one was read for the page)
        self._tick = tick
        self._count = count
        self._loop = asyncio.get_running_loop()
        self._sent_at = -math.inf
        self._seen = cursor  # the newest event received: the state read must show it
        # A change not sent yet goes out then; a resumed stream owes its page the state at once.
        self._state_due: float | None = self._loop.time() if resumed else None
        self._tick_due = self._loop.time() + TICK_S if tick else None
        self._artifacts_changed = False
        self._parts = SentParts()  # what this viewer's page shows of each part of the state

    def due(self) -> float | None:
        """When the stream must send something although no event came (``None``: never)."""
        times = [t for t in (self._state_due, self._tick_due) if t is not None]
        return min(times, default=None)

    async def on_batch(self, items: Sequence[EventItem]) -> list[ServerSentEvent]:
        """One message per event; the last also carries the state when it may be sent now."""
        self._seen = items[-1].seq
        self._artifacts_changed |= any(item.type == "artifact.created" for item in items)
        state = ""
        if any(item.type not in _STATELESS for item in items):
            titles = self._state["titles"]
            unknown = any(i.step_id is not None and i.step_id not in titles for i in items)
            # An audit line stays as it was rendered: a step new to the page needs its title now.
            if unknown or self._loop.time() >= self._sent_at + STATE_EVERY_S:
                state = await self._render_state()
            elif self._state_due is None:
                self._state_due = self._sent_at + STATE_EVERY_S
        messages = []
        for index, item in enumerate(items):
            self._count += 1
            last = index == len(items) - 1
            html = render_fragment(self._page, "live_event", self._event_context(item, last))
            messages.append(ServerSentEvent(data=html + state if last else html, id=str(item.seq)))
        return messages

    async def on_due(self) -> ServerSentEvent | None:
        """The message a passing deadline calls for: the state held back, or a clock tick."""
        now = self._loop.time()
        if self._state_due is not None and now >= self._state_due:
            html = await self._render_state()
            return ServerSentEvent(data=html) if html else None  # no id: it is no event
        if self._tick is None or self._tick_due is None or now < self._tick_due:
            return None
        tick = self._tick(self._state)
        self._tick_due = None if tick is None else now + TICK_S
        changed = None if tick is None else self._parts.changed(tick)
        return ServerSentEvent(data=changed) if changed else None

    async def _render_state(self) -> str:
        # A read cut short by the browser leaving would log driver warnings: let it finish.
        state = await dashboard.read_to_end(self._read_state(self._seen))
        state["artifacts_changed"] = self._artifacts_changed
        self._state, self._artifacts_changed, self._state_due = state, False, None
        self._sent_at = self._loop.time()
        self._tick_due = self._sent_at + TICK_S if self._tick else None
        return self._parts.changed(render_state(self._page, state))

    def _event_context(self, item: EventItem, last: bool) -> dict[str, Any]:
        titles = self._state["titles"]
        return {"event": item, "titles": titles, "event_count": self._count, "with_count": last}


async def _messages(
    ctx: ServiceContext,
    paced: _Pacer,
    *,
    cursor: int,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> AsyncIterator[ServerSentEvent]:
    events = dashboard.follow_events(ctx, after_seq=cursor, mission_id=mission_id, run_id=run_id)
    async for batch in until_due(events, paced.due):
        if batch is None:  # a deadline passed before the next event
            due = await paced.on_due()
            if due is not None:
                yield due
            continue
        for message in await paced.on_batch(batch.items):
            yield message


def stream(request: Request, messages: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    """The SSE response for ``messages`` (with keep-alive pings; never cached or buffered).

    It ends when ``request``'s session or token stops letting its identity in (checked every
    ``security.streams.RECHECK_S`` seconds).
    """
    return EventSourceResponse(while_admitted(request, messages), ping=PING_S, headers=HEADERS)


PageRead = Callable[[], Coroutine[Any, Any, dict[str, Any]]]
"""Reads what a page renders, the same for every viewer (identity and session come after)."""


async def mission_stream(
    ctx: ServiceContext, request: Request, *, mission_id: uuid.UUID, after: int, page: str
) -> EventSourceResponse:
    """The live stream of a mission page after ``after`` (or the browser's ``Last-Event-ID``).

    Fragments are rendered for the request's identity (its controls) and session (its CSRF
    token), as the page itself was.

    Raises:
        NotFound: no such mission (before the stream starts, so the answer is a 404).
    """

    async def read_page() -> dict[str, Any]:
        view = await dashboard.read_mission_view(ctx, mission_id=mission_id, audit_limit=0)
        return {"view": view, "titles": {t.key: t.title for t in view.tasks}}

    scope = {"mission_id": mission_id}
    return await _page_stream(ctx, request, scope, after=after, page=page, read_page=read_page)


async def run_stream(
    ctx: ServiceContext,
    request: Request,
    *,
    run_id: uuid.UUID,
    after: int,
    page: str,
    read_page: PageRead,
    tick: Tick,
) -> EventSourceResponse:
    """The live stream of a run page after ``after`` (or the browser's ``Last-Event-ID``).

    ``read_page`` reads what the page renders of the run (the page's own context, so a state
    sent equals a reload); ``tick`` redraws what moves with the clock. Fragments are rendered
    for the request's identity (its controls) and session (its CSRF token), as the page was.

    Raises:
        NotFound: no such run (before the stream starts, so the answer is a 404).
    """
    scope = {"run_id": run_id}
    return await _page_stream(
        ctx, request, scope, after=after, page=page, read_page=read_page, tick=tick
    )


async def _page_stream(
    ctx: ServiceContext,
    request: Request,
    scope: dict[str, uuid.UUID],
    *,
    after: int,
    page: str,
    read_page: PageRead,
    tick: Tick | None = None,
) -> EventSourceResponse:
    """The paced stream of the page of one mission or run (``scope``: its id by name).

    Every viewer's stream of that page shares the reads of its state (``web/page_reads.py``).
    """
    security = security_context(request)
    cursor = resume_from(request, after)
    reads = page_reads(ctx.db)

    async def read_shared() -> dict[str, Any]:
        # The viewers of this read share its renders too (web/live_state.py).
        return {**await read_page(), "emergency": await read_controls(ctx), RENDERS: {}}

    async def read_state(seen: int) -> dict[str, Any]:
        shared = await reads.read((page, *scope.values()), read_shared, seen=seen)
        return {**shared, **security}

    first = await read_state(cursor)
    count = await dashboard.count_events(ctx, up_to=cursor, **scope)
    paced = _Pacer(
        page=page,
        read_state=read_state,
        state=first,
        tick=tick,
        count=count,
        cursor=cursor,
        resumed=_resumed(request),
    )
    return stream(request, _messages(ctx, paced, cursor=cursor, **scope))
