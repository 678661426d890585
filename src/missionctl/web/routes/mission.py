"""The mission page: the cockpit of one mission, its live stream, and its two mission controls.

Blocks of ``pages/mission.html`` rendered alone:

- ``live_event`` / ``live_state``: the messages of the live stream (``web/sse.py``);
- ``audit_more``: older Audit Trail events ("Load older events").

Plan and Run answer htmx with a toast; the page changes through its stream. Without
JavaScript they redirect back to the page (303).
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sse_starlette import EventSourceResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.services import dashboard
from missionctl.services import plans as plan_service
from missionctl.services.controls import read_controls
from missionctl.web.deps import (
    MAX_SEQ,
    Context,
    ControlRuns,
    Fragment,
    MissionId,
    P,
    RuntimeDep,
    WriteMissions,
    requires,
)
from missionctl.web.errors import render_toast
from missionctl.web.sse import mission_stream
from missionctl.web.templating import render

PAGE = "pages/mission.html"

router = APIRouter()


@router.get("/missions/{mission_id}", dependencies=[requires(P.MISSIONS_READ)])
async def mission_page(request: Request, ctx: Context, mission_id: MissionId) -> Response:
    """The mission cockpit, from its header to its Project Shape.

    Raises:
        NotFound: no such mission (a 404 page).
    """
    view = await dashboard.read_mission_view(ctx, mission_id=mission_id)
    return render(request, PAGE, {"view": view, "titles": {t.key: t.title for t in view.tasks}})


@router.get("/missions/{mission_id}/audit", dependencies=[requires(P.AUDIT_READ)])
async def older_events(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    before: Annotated[int, Query(ge=1, le=MAX_SEQ)],
) -> Response:
    """Older Audit Trail events, appended below the ones shown (htmx), newest first."""
    events = await dashboard.read_mission_audit(ctx, mission_id=mission_id, before_seq=before)
    context = {
        "mission_id": mission_id,
        "events": events,
        "more": len(events) == dashboard.AUDIT_PAGE,
        "titles": {},
    }
    return render(request, PAGE, context, block="audit_more")


@router.get("/missions/{mission_id}/stream", dependencies=[requires(P.MISSIONS_READ)])
async def mission_events(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The page's live stream: rendered fragments per event (resumes from ``Last-Event-ID``)."""
    return await mission_stream(ctx, request, mission_id=mission_id, after=after, page=PAGE)


@router.post("/missions/{mission_id}/plan")
async def plan_mission(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    engine: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Plan the mission again (a new plan version) with the engine that planned it before.

    Raises:
        InvalidTransition: the mission cannot be planned now (a toast says why).
        PlanRejected | LLMOutputInvalid | LLMUnavailable: planning failed (recorded; a toast).
    """
    planner = dashboard.planner_for(runtime, use_model=engine != "local")
    plan = await plan_service.plan_mission(
        ctx, mission_id=mission_id, actor=who.actor, planner=planner
    )
    if not fragment:
        return RedirectResponse(f"/missions/{mission_id}", status_code=HTTP_303_SEE_OTHER)
    return render_toast(request, f"Plan v{plan.version} ready", f"{len(plan.tasks)} tasks")


@router.post("/missions/{mission_id}/run")
async def run_mission(
    request: Request, ctx: Context, who: ControlRuns, fragment: Fragment, mission_id: MissionId
) -> Response:
    """Run the mission's newest plan; the engine picks the run up at once.

    While the emergency stop is on the run is created but waits for the release, and the toast
    says so (not "Run started").

    Raises:
        Conflict: the mission cannot run now (a toast says why).
    """
    run = await plan_service.run_mission(ctx, mission_id=mission_id, actor=who.actor)
    if not fragment:
        return RedirectResponse(f"/missions/{mission_id}", status_code=HTTP_303_SEE_OTHER)
    tasks = f"{len(run.steps)} task{'' if len(run.steps) == 1 else 's'}"
    if (await read_controls(ctx)).emergency_stop:
        return render_toast(
            request,
            "Run halted: the emergency stop is on",
            f"Nothing is dispatched: its {tasks} wait until an admin releases the stop.",
            kind="warning",
        )
    return render_toast(request, "Run started", f"{tasks} queued for the engine")
