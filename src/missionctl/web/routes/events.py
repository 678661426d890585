"""The Events page (the event log, live, filtered) and the Audit page (search runs and events).

The filters are those of ``GET /api/v1/events`` and ``GET /api/v1/audit/runs`` under the same
names, kept in the URL, so a reload or a shared link shows the same search. The Events page's
newest page follows the log over one stream (``/events/stream``, ADR 0009): each message is one
matching event's row, prepended to the list; its ``id`` is the event's ``seq``. Pausing closes
the stream and resuming opens it again after the newest row shown (``static/js/events.js``),
so the events that arrived meanwhile are caught up from the database.
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from missionctl.domain.events import SEVERITIES
from missionctl.domain.states import RunStatus
from missionctl.schemas.events import (
    FILTER_TEXT_MAX_CHARS,
    AuditRunFilters,
    EventFilters,
    parse_filters,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import dashboard, event_feed
from missionctl.web.deps import MAX_SEQ, Context, P, requires
from missionctl.web.sse import resume_from, stream
from missionctl.web.templating import render, render_fragment

EVENTS_PAGE = "pages/events.html"
AUDIT_PAGE = "pages/audit.html"
PAGE_SIZE = 50

router = APIRouter(route_class=GuardedRoute)

Text = Annotated[str, Query(max_length=FILTER_TEXT_MAX_CHARS)]
EVENT_FIELDS = ("run_id", "mission_id", "workflow", "agent", "actor", "since", "until")


def event_filters_param(
    type: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    severity: Annotated[list[str], Query()] = [],  # noqa: B006
    run_id: Text = "",
    mission_id: Text = "",
    workflow: Text = "",
    agent: Text = "",
    actor: Text = "",
    since: Text = "",
    until: Text = "",
) -> EventFilters:
    """The event filters from the page's URL (empty means "any"; 422 names a bad one)."""
    raw = {
        # The form's one text box may hold several types: "step., run.failed".
        "type": [t.strip() for value in type for t in value.split(",") if t.strip()],
        "severity": severity,
        "run_id": run_id,
        "mission_id": mission_id,
        "workflow": workflow,
        "agent": agent,
        "actor": actor,
        "since": since,
        "until": until,
    }
    return parse_filters(EventFilters, raw)


def run_filters_param(
    workflow: Text = "",
    agent: Text = "",
    actor: Text = "",
    status: Text = "",
    since: Text = "",
    until: Text = "",
) -> AuditRunFilters:
    """The run search's filters from the Audit page's URL (422 names a bad one)."""
    raw = {
        "workflow": workflow,
        "agent": agent,
        "actor": actor,
        "status": status,
        "since": since,
        "until": until,
    }
    return parse_filters(AuditRunFilters, raw)


EventQuery = Annotated[EventFilters, Depends(event_filters_param)]
RunQuery = Annotated[AuditRunFilters, Depends(run_filters_param)]
Before = Annotated[int | None, Query(ge=1, le=MAX_SEQ)]


def event_params(filters: EventFilters) -> list[tuple[str, str]]:
    """The event filters as the URL's query parameters (repeated ones repeated)."""
    pairs = [("type", t) for t in filters.type] + [("severity", s) for s in filters.severity]
    for name in EVENT_FIELDS:
        value = getattr(filters, name)
        if value is not None:
            pairs.append((name, value.isoformat() if name in ("since", "until") else str(value)))
    return pairs


def _url(path: str, pairs: list[tuple[str, str]], **extra: str | None) -> str:
    query = urlencode(pairs + [(k, v) for k, v in extra.items() if v])
    return f"{path}?{query}" if query else path


def _form_values(filters: EventFilters | AuditRunFilters) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in filters.model_dump().items():
        if isinstance(value, list):
            values[name] = ", ".join(value)
        elif hasattr(value, "isoformat"):
            values[name] = value.isoformat().replace("+00:00", "Z")
        else:
            values[name] = "" if value is None else str(value)
    return values


@router.get("/events", dependencies=[requires(P.RUNS_READ)])
async def events_page(
    request: Request, ctx: Context, filters: EventQuery, before: Before = None
) -> Response:
    """The event log, newest first, filtered as the URL says; the newest page is live."""
    page = await event_feed.read_event_feed(ctx, filters=filters, before=before, limit=PAGE_SIZE)
    after = page.newest if page.items else await dashboard.read_head_seq(ctx)
    pairs = event_params(filters)
    context: dict[str, Any] = {
        "page": page,
        "names": await event_feed.name_subjects(ctx, page.items),
        "filters": filters,
        "values": _form_values(filters),
        "severities": SEVERITIES,
        "stream_url": None if before else _url("/events/stream", pairs, after=str(after)),
        "older_url": _url("/events", pairs, before=str(page.next_before))
        if page.next_before
        else None,
        "newest_url": _url("/events", pairs) if before else None,
        # The live page keeps as many rows as a page holds; its older link then starts from the
        # oldest row kept (static/js/app.js).
        "page_size": PAGE_SIZE,
        "older_base": _url("/events", pairs),
    }
    return render(request, EVENTS_PAGE, context)


@router.get("/events/stream", dependencies=[requires(P.RUNS_READ)])
async def events_stream(
    request: Request,
    ctx: Context,
    filters: EventQuery,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The Events page's live stream: one row per matching event, after ``after``."""
    cursor = resume_from(request, after)

    async def messages() -> Any:
        async for batch in dashboard.follow_events(ctx, after_seq=cursor, filters=filters):
            items = [event_feed.to_feed_item(item) for item in batch.items]
            names = await event_feed.name_subjects(ctx, items)  # one read per batch
            for item in items:
                row = {"event": item, "names": names}
                html = render_fragment(EVENTS_PAGE, "live_event", row)
                yield ServerSentEvent(data=html, id=str(item.seq))

    return stream(request, messages())


@router.get("/audit", dependencies=[requires(P.AUDIT_READ)])
async def audit_page(
    request: Request,
    ctx: Context,
    events: EventQuery,
    runs: RunQuery,
    kind: Annotated[str, Query(pattern="^(runs|events)$")] = "runs",
    cursor: Annotated[str, Query(max_length=64)] = "",
    before: Before = None,
) -> Response:
    """Search runs (or events) with the audit filters; each result links to its run.

    The export links download the same search as CSV or JSON Lines.
    """
    context: dict[str, Any] = {"kind": kind, "statuses": list(RunStatus), "severities": SEVERITIES}
    if kind == "runs":
        page = await event_feed.search_runs(
            ctx, filters=runs, limit=PAGE_SIZE, cursor=cursor or None
        )
        pairs = [(k, v) for k, v in _form_values(runs).items() if v]
        more = {"cursor": page.next_cursor}
        context.update(runs=page, values=_form_values(runs))
    else:
        events_page_ = await event_feed.read_event_feed(
            ctx, filters=events, before=before, limit=PAGE_SIZE
        )
        pairs = event_params(events)
        more = {"before": str(events_page_.next_before) if events_page_.next_before else None}
        names = await event_feed.name_subjects(ctx, events_page_.items)
        context.update(events=events_page_, names=names, values=_form_values(events))
    pairs.append(("kind", kind))
    context["next_url"] = _url("/audit", pairs, **more) if any(more.values()) else None
    context["export_csv"] = _url("/api/v1/audit/export", pairs, format="csv")
    context["export_jsonl"] = _url("/api/v1/audit/export", pairs, format="jsonl")
    return render(request, AUDIT_PAGE, context)
