"""The mission page: the cockpit of one mission, its live stream, and its two mission controls.

Blocks of ``pages/mission.html`` rendered alone:

- ``live_event`` / ``live_state``: the messages of the live stream (``web/sse.py``);
- ``audit_more``: older Audit Trail events ("Load older events").

Plan, Run and the answers to the planner's questions answer htmx with a toast; the page
changes through its stream. Without JavaScript they redirect back to the page (303).
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import StringConstraints
from sse_starlette import EventSourceResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.schemas.clarifications import ClarificationRead
from missionctl.schemas.costs import CostQuery
from missionctl.schemas.missions import (
    ANSWER_MAX_CHARS,
    CONSTRAINT_MAX_CHARS,
    MAX_CONSTRAINTS,
    MAX_QUESTIONS,
    REPO_CONTEXT_MAX_CHARS,
)
from missionctl.schemas.plans import MAX_PLAN_VERSION, PlanRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import costs as cost_service
from missionctl.services.usecases import dashboard, launch, memory_recall
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.controls import read_controls
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
from missionctl.web.forms import clarification_request, plan_again_request
from missionctl.web.sse import mission_stream
from missionctl.web.templating import render

PAGE = "pages/mission.html"
AUDIT_PAGE = "pages/mission_audit.html"
PLAN_PAGE = "pages/plan.html"

# What a form may send for the constraints or the repository context; the contract's own limits
# (PlanAgain) then decide, with a message naming the field. Twice the largest valid text, so a
# text that is too long gets that message rather than a bare refusal.
FORM_TEXT_MAX = 2 * max(REPO_CONTEXT_MAX_CHARS, MAX_CONSTRAINTS * (CONSTRAINT_MAX_CHARS + 1))

# What the questions form may send: one box per question, each at most twice a valid answer
# (so a long one gets the message naming it); more boxes get the contract's message.
FORM_ANSWER_MAX = 2 * ANSWER_MAX_CHARS
FORM_MAX_ANSWERS = 2 * MAX_QUESTIONS

router = APIRouter(route_class=GuardedRoute)


@router.get("/missions/{mission_id}", dependencies=[requires(P.MISSIONS_READ)])
async def mission_page(request: Request, ctx: Context, mission_id: MissionId) -> Response:
    """The mission cockpit, from its header to its Project Shape.

    Raises:
        NotFound: no such mission (a 404 page).
    """
    view = await dashboard.read_mission_view(ctx, mission_id=mission_id)
    query = CostQuery(scope="mission", id=str(mission_id))
    context = {
        "view": view,
        "titles": {t.key: t.title for t in view.tasks},
        # The Audit Trail keeps as many events live as the page shows (static/js/app.js).
        "audit_page": dashboard.AUDIT_PAGE,
        "costs": await cost_service.read_costs(ctx, query=query),
        # Finished missions like this one (mission memory, ADR 0055); none once it finished.
        "similar": await memory_recall.similar_missions(ctx, mission_id=mission_id, fresh=False),
    }
    return render(request, PAGE, context)


@router.get("/missions/{mission_id}/audit", dependencies=[requires(P.AUDIT_READ)])
async def older_events(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    before: Annotated[int, Query(ge=1, le=MAX_SEQ)],
    fragment: Fragment,
) -> Response:
    """Older Audit Trail events, newest first.

    Appended below the ones shown for htmx; on a page of their own (with the layout) when the
    link is opened in a new tab or without scripts.
    """
    events = await dashboard.read_mission_audit(ctx, mission_id=mission_id, before_seq=before)
    more = len(events) == dashboard.AUDIT_PAGE
    if fragment:
        context = {"mission_id": mission_id, "events": events, "more": more, "titles": {}}
        return render(request, PAGE, context, block="audit_more")
    mission = await mission_service.read_mission(ctx, mission_id=mission_id)
    context = {"mission": mission, "events": events, "more": more, "before": before, "titles": {}}
    return render(request, AUDIT_PAGE, context)


@router.get("/missions/{mission_id}/stream", dependencies=[requires(P.MISSIONS_READ)])
async def mission_events(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
) -> EventSourceResponse:
    """The page's live stream: rendered fragments per event (resumes from ``Last-Event-ID``)."""
    return await mission_stream(ctx, request, mission_id=mission_id, after=after, page=PAGE)


@router.get("/missions/{mission_id}/plans/{version}", dependencies=[requires(P.MISSIONS_READ)])
async def plan_version_page(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    version: Annotated[int, Path(ge=1, le=MAX_PLAN_VERSION)],
    compare: Annotated[int | None, Query(ge=1, le=MAX_PLAN_VERSION)] = None,
) -> Response:
    """One plan version of the mission, and with ``compare`` what changed since that version.

    Raises:
        NotFound: no such mission or version (a 404 page naming it).
    """
    mission = await mission_service.read_mission(ctx, mission_id=mission_id)
    plan = await plan_service.read_plan(ctx, mission_id=mission_id, version=version)
    versions = await plan_service.list_plan_versions(ctx, mission_id=mission_id)
    diff = None
    if compare is not None:
        diff = await plan_service.compare_plans(
            ctx, mission_id=mission_id, version=version, base=compare
        )
    context = {"mission": mission, "plan": plan, "versions": versions, "diff": diff}
    return render(request, PLAN_PAGE, context)


@router.post("/missions/{mission_id}/plan")
async def plan_mission(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    engine: Annotated[str, Form(max_length=10)] = "",
    constraints: Annotated[str | None, Form(max_length=FORM_TEXT_MAX)] = None,
    repo_context: Annotated[str | None, Form(max_length=FORM_TEXT_MAX)] = None,
) -> Response:
    """Plan the mission again (a new plan version) with the engine that planned it before.

    The "Plan again with changes" form also sends the constraints (one per line) and the
    repository context, prefilled with the mission's: they replace the mission's before the
    planner runs. The plain Plan again button sends neither and changes nothing but the plan.

    Raises:
        ValidationFailed: a changed field breaks a rule; nothing is changed (a toast names it).
        InvalidTransition: the mission cannot be planned now (a toast says why).
        PlanRejected | LLMOutputInvalid | LLMUnavailable: planning failed (recorded; a toast).
    """
    changes = plan_again_request(constraints, repo_context)
    planner = launch.planner_for(runtime, use_model=engine != "local")
    outcome = await plan_service.plan_again(
        ctx, mission_id=mission_id, actor=who.actor, planner=planner, changes=changes
    )
    return _planned(request, fragment, mission_id, outcome)


@router.post("/missions/{mission_id}/clarification")
async def answer_questions(
    request: Request,
    ctx: Context,
    runtime: RuntimeDep,
    who: WriteMissions,
    fragment: Fragment,
    mission_id: MissionId,
    answers: Annotated[
        list[Annotated[str, StringConstraints(max_length=FORM_ANSWER_MAX)]] | None,
        Form(max_length=FORM_MAX_ANSWERS),
    ] = None,
    engine: Annotated[str, Form(max_length=10)] = "local",
) -> Response:
    """Answer the planner's questions (one text box each, in order) and plan with the answers.

    The local planner asked them, so it reads the answers unless the form asks for the model.

    Raises:
        ValidationFailed: no answer, or one too long; nothing is changed (a toast names it).
        Conflict: the mission does not wait for answers (a toast says so).
        PlanRejected | LLMOutputInvalid | LLMUnavailable: planning failed (recorded; a toast).
    """
    request_answers = clarification_request(answers or [])
    planner = launch.planner_for(runtime, use_model=engine == "model")
    outcome = await plan_service.answer_questions(
        ctx, mission_id=mission_id, actor=who.actor, planner=planner, answers=request_answers
    )
    return _planned(request, fragment, mission_id, outcome)


def _to_page(mission_id: UUID) -> Response:
    """A plain form post's answer: back to the mission page (303)."""
    return RedirectResponse(f"/missions/{mission_id}", status_code=HTTP_303_SEE_OTHER)


def _planned(
    request: Request, fragment: bool, mission_id: UUID, outcome: PlanRead | ClarificationRead
) -> Response:
    """Back to the page, or for htmx a toast: "Plan vN ready", or the questions waiting."""
    if not fragment:
        return _to_page(mission_id)
    if isinstance(outcome, ClarificationRead):
        count = len(outcome.questions)
        return render_toast(
            request,
            "The planner has questions",
            f"Answer {'it' if count == 1 else f'the {count} questions'} on the mission page to "
            "get a plan.",
            kind="warning",
        )
    return render_toast(request, f"Plan v{outcome.version} ready", f"{len(outcome.tasks)} tasks")


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
        return _to_page(mission_id)
    tasks = f"{len(run.steps)} task{'' if len(run.steps) == 1 else 's'}"
    if (await read_controls(ctx)).emergency_stop:
        return render_toast(
            request,
            "Run halted: the emergency stop is on",
            f"Nothing is dispatched: its {tasks} wait until an admin releases the stop.",
            kind="warning",
        )
    return render_toast(request, "Run started", f"{tasks} queued for the engine")
