"""The runs pages (the list and one run) and the run controls shared with the mission page.

Blocks rendered alone: of ``pages/run.html`` ``live_event`` / ``live_state`` (the live stream);
of ``pages/step.html`` ``step_detail`` (a step's inputs, outputs, error and log, loaded when its
row is opened); of ``pages/runs.html`` ``run_list`` (filter, paging).

Cancel, Retry and Rerun answer htmx with a toast (the pages change through their streams) and
a plain form post with a 303 back to the page it came from.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sse_starlette import EventSourceResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.domain.states import RunStatus
from missionctl.services import dashboard
from missionctl.services import runs as run_service
from missionctl.web.deps import MAX_SEQ, Context, ControlRuns, Fragment, P, RunId, requires
from missionctl.web.errors import render_toast
from missionctl.web.sse import run_stream
from missionctl.web.templating import open_page, render

PAGE = "pages/run.html"
LIST_PAGE = "pages/runs.html"
STEP_PAGE = "pages/step.html"
PAGE_SIZE = 50

router = APIRouter()

Back = Annotated[str, Form(max_length=300)]


def _back(back: str, default: str) -> RedirectResponse:
    """Redirect to ``back`` when it is a path of this site, else to ``default``."""
    target = back if back.startswith("/") and not back.startswith("//") else default
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)


@router.get("/runs", dependencies=[requires(P.RUNS_READ)])
async def runs_page(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    status: Annotated[str, Query(max_length=32)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Every run, newest first, with its workflow, mission, progress, cost and duration."""
    chosen = RunStatus(status) if status in RunStatus.__members__ else None
    page = await dashboard.read_run_rows(ctx, limit=PAGE_SIZE, cursor=cursor or None, status=chosen)
    context = {"page": page, "status": chosen, "statuses": list(RunStatus), "cursor": cursor}
    return render(request, LIST_PAGE, context, block="run_list" if fragment else None)


@router.get("/runs/{run_id}", dependencies=[requires(P.RUNS_READ)])
async def run_page(request: Request, ctx: Context, run_id: RunId) -> Response:
    """One run: its graph, its steps with attempts, timings, tokens and cost, and its controls.

    Raises:
        NotFound: no such run (a 404 page).
    """
    view = await dashboard.read_run_view(ctx, run_id=run_id)
    return render(request, PAGE, {"view": view, "titles": {t.key: t.title for t in view.tasks}})


@router.get("/runs/{run_id}/steps/{step_id}", dependencies=[requires(P.RUNS_READ)])
async def step_detail(
    request: Request, ctx: Context, fragment: Fragment, run_id: RunId, step_id: str
) -> Response:
    """A step's inputs, outputs, error and log (the block alone for htmx)."""
    detail = await dashboard.read_step_detail(ctx, run_id=run_id, step_id=step_id)
    return render(request, STEP_PAGE, {"detail": detail}, block="step_detail" if fragment else None)


@router.get("/runs/{run_id}/stream", dependencies=[requires(P.RUNS_READ)])
async def run_events(
    request: Request,
    ctx: Context,
    run_id: RunId,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The run page's live stream (resumes from ``Last-Event-ID``)."""
    return await run_stream(ctx, request, run_id=run_id, after=after, page=PAGE)


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
    if not fragment:
        return _back(back, f"/runs/{run_id}")
    canceled = sum(1 for s in run.steps if s.status == "canceled")
    return render_toast(request, "Run canceled", f"{canceled} unfinished tasks canceled")


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
    if not fragment:
        return _back(back, f"/runs/{run_id}")
    attempt = next((s.attempt for s in run.steps if s.step_id == step_id), 0)
    return render_toast(request, "Task retried", f"{step_id}: attempt {attempt} queued")


@router.post("/runs/{run_id}/rerun")
async def rerun(
    request: Request,
    ctx: Context,
    who: ControlRuns,
    fragment: Fragment,
    run_id: RunId,
    back: Back = "",
) -> Response:
    """Start a new run that reuses what succeeded and runs the rest again.

    Raises:
        Conflict: the run did not end failed, canceled or aborted (a toast).
    """
    run = await run_service.rerun_from_failure(ctx, run_id=run_id, actor=who.actor)
    if not fragment:
        return _back(back, f"/runs/{run.id}")
    if back.startswith("/runs/"):  # from the old run's page: open the new run's
        return Response(status_code=200, headers={"HX-Location": open_page(f"/runs/{run.id}")})
    reused = sum(1 for s in run.steps if s.status == "succeeded")
    return render_toast(request, "Rerun started", f"{reused} tasks reused from the failed run")
