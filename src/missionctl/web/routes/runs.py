"""The runs pages (the list and one run) and the run controls shared with the mission page.

Blocks rendered alone: of ``pages/run.html`` ``live_event`` / ``live_state`` / ``live_timeline``
(the live stream); of ``pages/step.html`` ``step_detail`` (a step's inputs, outputs, error and
log, loaded when its row is opened); of ``pages/runs.html`` ``list_update`` (filters, paging: the
list, its count and the live stream's element) and ``list_live`` (the list's live stream,
``web/live_lists.py``).

The list's filters are those of ``GET /api/v1/runs``, kept in the URL (bookmarks, Back).

Cancel, Retry and Rerun answer htmx with a toast (the pages change through their streams) and
a plain form post with a 303 back to the page it came from.
"""

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sse_starlette import EventSourceResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.db.types import utcnow
from missionctl.domain.states import RunStatus
from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.costs import CostQuery
from missionctl.schemas.dashboard import RunRowPage
from missionctl.schemas.runs import RUN_FILTER_TEXT_MAX_CHARS, RunFilters
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.usecases import costs as cost_service
from missionctl.services.usecases import dashboard
from missionctl.services.usecases import risks as risk_service
from missionctl.services.usecases import runs as run_service
from missionctl.services.usecases.replay import read_run_state
from missionctl.settings import Settings
from missionctl.telemetry import run_trace_hex
from missionctl.web.charts import timeline, timeline_runs_to_now
from missionctl.web.deps import MAX_SEQ, Context, ControlRuns, Fragment, P, RunId, requires
from missionctl.web.errors import render_toast
from missionctl.web.live_lists import RUN_LIST_EVENTS, list_stream
from missionctl.web.routes.costs import cost_charts
from missionctl.web.sse import run_stream
from missionctl.web.templating import list_url, open_page, render, render_fragment

PAGE = "pages/run.html"
LIST_PAGE = "pages/runs.html"
STEP_PAGE = "pages/step.html"
REPLAY_PAGE = "pages/replay.html"
PAGE_SIZE = 50
STEP_LOG_LINES = 50
"""Log lines a step's page shows unless asked for all of them."""

router = APIRouter(route_class=GuardedRoute)

Back = Annotated[str, Form(max_length=300)]


def _back(back: str, default: str) -> RedirectResponse:
    """Redirect to ``back`` when it is a path of this site, else to ``default``."""
    target = back if back.startswith("/") and not back.startswith("//") else default
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)


def _done(
    request: Request, fragment: bool, back: str, run_id: uuid.UUID, title: str, message: str
) -> Response:
    """A control's answer: htmx gets the toast, a plain form post a 303 back (the run's page)."""
    if not fragment:
        return _back(back, f"/runs/{run_id}")
    return render_toast(request, title, message)


FilterText = Annotated[str, Query(max_length=RUN_FILTER_TEXT_MAX_CHARS)]
CursorText = Annotated[str, Query(max_length=64)]


def run_filters_param(
    status: FilterText = "",
    mission_id: FilterText = "",
    workflow: FilterText = "",
    agent: FilterText = "",
    created_after: FilterText = "",
    created_before: FilterText = "",
    q: FilterText = "",
) -> RunFilters:
    """The Runs page's filters from its URL (the API's names; empty means "any").

    Raises:
        ValidationFailed: a filter the API would refuse too, named (the page answers 422).
    """
    raw = {
        "status": status,
        "mission_id": mission_id,
        "workflow": workflow,
        "agent": agent,
        "created_after": created_after,
        "created_before": created_before,
        "q": q,
    }
    try:
        return RunFilters.model_validate({name: value for name, value in raw.items() if value})
    except ValidationError as exc:
        problems = [Problem(str(e["loc"][0]), str(e["msg"])) for e in exc.errors()]
        raise ValidationFailed(problems) from None


Filters = Annotated[RunFilters, Depends(run_filters_param)]


@router.get("/runs", dependencies=[requires(P.RUNS_READ)])
async def runs_page(
    request: Request, ctx: Context, fragment: Fragment, filters: Filters, cursor: CursorText = ""
) -> Response:
    """Runs, newest first, filtered as the URL says, with workflow, mission, progress and cost.

    For htmx (filtering, paging), only the list, its count and the live stream's element.

    Raises:
        ValidationFailed: a filter or the cursor is invalid (a 422 page naming it).
    """
    after = await dashboard.read_head_seq(ctx)  # before the list: see read_head_seq
    page = await dashboard.read_run_rows(
        ctx, filters=filters, limit=PAGE_SIZE, cursor=cursor or None
    )
    context = _list_context(page, filters, cursor)
    context["stream_url"] = list_url(
        "/runs/stream", **_params(filters), cursor=cursor, after=str(after)
    )
    return render(request, LIST_PAGE, context, block="list_update" if fragment else None)


@router.get("/runs/stream", dependencies=[requires(P.RUNS_READ)])
async def runs_stream(
    request: Request,
    ctx: Context,
    filters: Filters,
    cursor: CursorText = "",
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The runs list's live stream: the list (same filters and page) after each change.

    Raises:
        ValidationFailed: a filter or the cursor is invalid (422, before the stream starts).
    """

    async def render_list() -> str:
        page = await dashboard.read_run_rows(
            ctx, filters=filters, limit=PAGE_SIZE, cursor=cursor or None
        )
        return render_fragment(LIST_PAGE, "list_live", _list_context(page, filters, cursor))

    return await list_stream(
        ctx, request, after=after, render_list=render_list, prefixes=RUN_LIST_EVENTS
    )


def _params(filters: RunFilters) -> dict[str, str]:
    """The filters as the URL's query parameters (times as ISO 8601; unset ones left out)."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else str(value)
        for name, value in filters.model_dump(exclude_none=True).items()
        if value != ""
    }


def _list_context(page: RunRowPage, filters: RunFilters, cursor: str) -> dict[str, Any]:
    params = _params(filters)
    return {
        "page": page,
        "filters": filters,
        "params": params,
        "statuses": list(RunStatus),
        "cursor": cursor,
        "newest_url": list_url("/runs", **params),
        "older_url": list_url("/runs", **params, cursor=page.next_cursor),
    }


async def _read_page(ctx: ServiceContext, run_id: uuid.UUID) -> dict[str, Any]:
    """What the run page shows of the run now: its view, step titles, costs and timeline.

    The page and its live stream's state both render from this, so the state the stream sends
    last is what a reload shows.

    Raises:
        NotFound: no such run.
    """
    view = await dashboard.read_run_view(ctx, run_id=run_id)
    costs = await cost_service.read_costs(ctx, query=CostQuery(scope="run", id=str(run_id)))
    return {
        "view": view,
        "risks": await risk_service.read_kept_risks(ctx, run_id=run_id),
        "titles": {t.key: t.title for t in view.tasks},
        "costs": costs,
        "charts": cost_charts(costs),
        "timeline": timeline(view.tasks, now=utcnow()),
    }


def _redraw_timeline(state: dict[str, Any]) -> str | None:
    """The stream's clock tick: the timeline of ``state`` drawn to now, while a bar ends there.

    Returns:
        The message's HTML, or None when every started step has ended (nothing moves).
    """
    tasks = state["view"].tasks
    if not timeline_runs_to_now(tasks):
        return None
    return render_fragment(PAGE, "live_timeline", {"timeline": timeline(tasks, now=utcnow())})


@router.get("/runs/{run_id}", dependencies=[requires(P.RUNS_READ)])
async def run_page(request: Request, ctx: Context, run_id: RunId) -> Response:
    """One run: its graph, its steps with attempts, timings, tokens and cost, and its controls.

    With ``MISSIONCTL_TRACE_URL`` set, the page links to the run's trace.

    Raises:
        NotFound: no such run (a 404 page).
    """
    context = await _read_page(ctx, run_id)
    settings: Settings = request.app.state.settings
    # The run's trace in the tracing tool, when MISSIONCTL_TRACE_URL says where (ADR 0045).
    context["trace_url"] = settings.tracing.trace_link(run_trace_hex(run_id))
    return render(request, PAGE, context)


@router.get("/runs/{run_id}/steps/{step_id}", dependencies=[requires(P.RUNS_READ)])
async def step_detail(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    run_id: RunId,
    step_id: str,
    log: Annotated[str, Query(pattern="^(all)?$", description="`all`: every log line")] = "",
) -> Response:
    """A step's inputs, outputs, error, attempts, model input and log (the block for htmx).

    The log shows its last ``STEP_LOG_LINES`` lines unless ``log=all``.
    """
    detail = await dashboard.read_step_detail(
        ctx, run_id=run_id, step_id=step_id, log_lines=None if log == "all" else STEP_LOG_LINES
    )
    # The run page appends live lines to this log; it keeps as many as shown here (app.js).
    context = {"detail": detail, "log_keep": None if log == "all" else STEP_LOG_LINES}
    return render(request, STEP_PAGE, context, block="step_detail" if fragment else None)


@router.get("/runs/{run_id}/replay", dependencies=[requires(P.RUNS_READ)])
async def replay_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    run_id: RunId,
    at: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> Response:
    """The run as it was just after one of its events; Previous/Next step through them.

    Read-only. ``at`` (an event seq, default the run's last) is kept in the URL so that a
    position can be shared; htmx gets only the ``replay_view`` block.

    Raises:
        NotFound: no such run (a 404 page).
        ValidationFailed: ``at`` is before the run's first event (a 422 page naming it).
    """
    state = await read_run_state(ctx, run_id=run_id, at=at)
    view = await dashboard.read_run_view(ctx, run_id=run_id)
    context = {"state": state, "view": view, "titles": {t.key: t.title for t in view.tasks}}
    return render(request, REPLAY_PAGE, context, block="replay_view" if fragment else None)


@router.get("/runs/{run_id}/stream", dependencies=[requires(P.RUNS_READ)])
async def run_events(
    request: Request,
    ctx: Context,
    run_id: RunId,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The run page's live stream (resumes from ``Last-Event-ID``).

    Its state is the page's own context (``_read_page``): status, steps, graph, costs and
    timeline; the timeline is redrawn every second while a step runs (``web/sse.py``).

    Raises:
        NotFound: no such run (a 404 before the stream starts).
    """
    return await run_stream(
        ctx,
        request,
        run_id=run_id,
        after=after,
        page=PAGE,
        read_page=partial(_read_page, ctx, run_id),
        tick=_redraw_timeline,
    )


@router.post("/runs/{run_id}/cancel")
async def cancel_run(
    request: Request,
    ctx: Context,
    who: ControlRuns,
    fragment: Fragment,
    run_id: RunId,
    back: Back = "",
) -> Response:
    """Cancel the run: no more dispatch, running tasks stopped.

    Raises:
        InvalidTransition: the run already ended (a toast says so).
    """
    run = await run_service.cancel_run(ctx, run_id=run_id, actor=who.actor)
    canceled = sum(1 for s in run.steps if s.status == "canceled")
    return _done(
        request, fragment, back, run_id, "Run canceled", f"{canceled} unfinished tasks canceled"
    )


@router.post("/runs/{run_id}/steps/{step_id}/retry")
async def retry_step(
    request: Request,
    ctx: Context,
    who: ControlRuns,
    fragment: Fragment,
    run_id: RunId,
    step_id: str,
    back: Back = "",
) -> Response:
    """Queue a failed task again (attempt + 1); a failed run resumes.

    Raises:
        InvalidTransition: the task has not failed, or the run cannot resume (a toast).
    """
    run = await run_service.retry_step(ctx, run_id=run_id, step_id=step_id, actor=who.actor)
    attempt = next((s.attempt for s in run.steps if s.step_id == step_id), 0)
    return _done(
        request, fragment, back, run_id, "Task retried", f"{step_id}: attempt {attempt} queued"
    )


@router.post("/runs/{run_id}/rerun")
async def rerun(
    request: Request,
    ctx: Context,
    who: ControlRuns,
    fragment: Fragment,
    run_id: RunId,
    back: Back = "",
    from_step: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Start a new run that reuses what succeeded and runs the rest again.

    With ``from_step`` (the step page's "Rerun from here"), that step and everything downstream
    of it run again, whatever succeeded before.

    Raises:
        Conflict: the run did not end failed, canceled or aborted (a toast), or, with
            ``from_step``, has not ended.
        NotFound: the run's workflow has no step ``from_step``.
    """
    run = await run_service.rerun_from_failure(
        ctx, run_id=run_id, actor=who.actor, from_step=from_step or None
    )
    if not fragment:
        return _back(back, f"/runs/{run.id}")
    if back.startswith("/runs/"):  # from the old run's pages: open the new run's
        return Response(status_code=200, headers={"HX-Location": open_page(f"/runs/{run.id}")})
    reused = sum(1 for s in run.steps if s.status == "succeeded")
    return render_toast(request, "Rerun started", f"{reused} tasks reused from the failed run")
