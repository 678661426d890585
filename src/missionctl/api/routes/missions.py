"""``/api/v1/missions``."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from fastapi.responses import JSONResponse

from missionctl.api.deps import Context, Identity, P, RuntimeDep, Trigger, requires
from missionctl.api.errors import (
    BODY_RESPONSES,
    CONFLICT_RESPONSES,
    ERROR_RESPONSES,
    LLM_RESPONSES,
)
from missionctl.api.refusals import refusals
from missionctl.domain.refusals import MISSION_RULES
from missionctl.domain.states import MissionStatus
from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
from missionctl.schemas.missions import NO_NUL_PATTERN, MissionCreate, MissionPage, MissionRead
from missionctl.schemas.paging import ID_CURSOR
from missionctl.schemas.plans import (
    MAX_PLAN_VERSION,
    PlanAgain,
    PlanDiffRead,
    PlanRead,
    PlanVersionRead,
)
from missionctl.schemas.runs import RunRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.paging import MAX_PAGE_SIZE

router = APIRouter(
    route_class=GuardedRoute, prefix="/missions", tags=["missions"], responses=ERROR_RESPONSES
)

# Planning answers 201 with the plan, or 202 with the planner's questions (ADR 0035).
QUESTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ClarificationRead,
        "description": "The planner asks questions instead of planning; the mission waits for "
        "the answers (`POST /api/v1/missions/{mission_id}/clarification`)",
    }
}


def _planned_or_asked(outcome: PlanRead | ClarificationRead) -> PlanRead | JSONResponse:
    """The plan as the route's 201, or the planner's questions as a 202."""
    if isinstance(outcome, ClarificationRead):
        return JSONResponse(status_code=202, content=outcome.model_dump(mode="json"))
    return outcome


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MissionRead,
    responses=BODY_RESPONSES | CONFLICT_RESPONSES,
    openapi_extra=refusals(MISSION_RULES),
)
async def create_mission(
    body: MissionCreate, ctx: Context, who: Annotated[Identity, requires(P.MISSIONS_WRITE)]
) -> MissionRead:
    """Create a mission in `draft`; nothing is stored when the body is invalid (422).

    A repository the server's settings or allow-list refuse is a 409: an admin can allow it.
    """
    return await mission_service.create_mission(ctx, data=body, actor=who.actor)


@router.get("", response_model=MissionPage, dependencies=[requires(P.MISSIONS_READ)])
async def list_missions(
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            description="`next_cursor` of the previous page",
            json_schema_extra={"pattern": ID_CURSOR},
        ),
    ] = None,
    status: Annotated[MissionStatus | None, Query()] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL_PATTERN, description="Text to find in title or goal"),
    ] = None,
) -> MissionPage:
    """List missions, newest first, with keyset paging."""
    return await mission_service.read_missions(ctx, limit=limit, cursor=cursor, status=status, q=q)


@router.get("/{mission_id}", response_model=MissionRead, dependencies=[requires(P.MISSIONS_READ)])
async def get_mission(mission_id: uuid.UUID, ctx: Context) -> MissionRead:
    """One mission by id (404 when there is none)."""
    return await mission_service.read_mission(ctx, mission_id=mission_id)


@router.post(
    "/{mission_id}/plan",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=QUESTION_RESPONSES | CONFLICT_RESPONSES | LLM_RESPONSES | BODY_RESPONSES,
)
async def plan_mission(
    mission_id: uuid.UUID,
    ctx: Context,
    who: Annotated[Identity, requires(P.MISSIONS_WRITE)],
    runtime: RuntimeDep,
    body: Annotated[PlanAgain | None, Body()] = None,
) -> PlanRead | JSONResponse:
    """Plan (or plan again) a mission: a new plan version from the model or the local planner.

    An optional body (`{"constraints": [...], "repo_context": "..."}`) replaces the mission's
    constraints and repository context first, so the new version is planned with them; an
    omitted field keeps its value. 422 names the field of a bad body; 409 when the mission
    cannot be planned now (e.g. it is running), and then nothing changes; 422 also when the
    planner's plan still broke the rules after its repairs (the reasons are listed). The new
    version's `notes` say what the planner repaired in a model's answer (keys renamed to the
    plan's formats, dangling references dropped, …) or noticed (requirements no task traces).
    202 when the planner cannot plan the mission as written (its goal names nothing to plan,
    or is not in English for the local planner) and asks questions instead: the mission is then
    `needs_clarification` until they are answered.
    """
    outcome = await plan_service.plan_again(
        ctx, mission_id=mission_id, actor=who.actor, planner=runtime.planner, changes=body
    )
    return _planned_or_asked(outcome)


@router.post(
    "/{mission_id}/clarification",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=QUESTION_RESPONSES | CONFLICT_RESPONSES | LLM_RESPONSES | BODY_RESPONSES,
)
async def answer_questions(
    mission_id: uuid.UUID,
    body: ClarificationAnswers,
    ctx: Context,
    who: Annotated[Identity, requires(P.MISSIONS_WRITE)],
    runtime: RuntimeDep,
) -> PlanRead | JSONResponse:
    """Answer the planner's questions about a mission, and plan it with the answers.

    `{"answers": [...]}` holds one answer per question, in order (the questions are the last
    of the mission's `clarifications`). 201 with the plan; 202 with new questions when the
    answers still leave the planner guessing; 409 when the mission does not wait for answers
    (its status is not `needs_clarification`), and then nothing changes; 422 names the field
    of a bad body (no answer given, too many answers, one too long).
    """
    outcome = await plan_service.answer_questions(
        ctx, mission_id=mission_id, actor=who.actor, planner=runtime.planner, answers=body
    )
    return _planned_or_asked(outcome)


@router.get(
    "/{mission_id}/plans",
    response_model=list[PlanVersionRead],
    dependencies=[requires(P.MISSIONS_READ)],
)
async def list_plans(mission_id: uuid.UUID, ctx: Context) -> list[PlanVersionRead]:
    """The mission's plan versions, newest first (404 when there is no such mission)."""
    return await plan_service.list_plan_versions(ctx, mission_id=mission_id)


@router.get(
    "/{mission_id}/plans/{version}",
    response_model=PlanRead,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def get_plan_version(
    mission_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=MAX_PLAN_VERSION)],
    ctx: Context,
) -> PlanRead:
    """One plan version of the mission (404 when the mission or the version does not exist)."""
    return await plan_service.read_plan(ctx, mission_id=mission_id, version=version)


@router.get(
    "/{mission_id}/plans/{version}/diff",
    response_model=PlanDiffRead,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def diff_plan_version(
    mission_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=MAX_PLAN_VERSION)],
    ctx: Context,
    base: Annotated[
        int, Query(ge=1, le=MAX_PLAN_VERSION, description="The version to compare it with")
    ],
) -> PlanDiffRead:
    """What changed from plan version `base` to plan version `version`.

    The tasks, requirements, risks and decisions added, removed and changed; 404 names the
    version that does not exist.
    """
    return await plan_service.compare_plans(ctx, mission_id=mission_id, version=version, base=base)


@router.get("/{mission_id}/plan", response_model=PlanRead, dependencies=[requires(P.MISSIONS_READ)])
async def get_plan(
    mission_id: uuid.UUID,
    ctx: Context,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_PLAN_VERSION, description="Default: the newest")
    ] = None,
) -> PlanRead:
    """A mission's plan."""
    return await plan_service.read_plan(ctx, mission_id=mission_id, version=version)


@router.post(
    "/{mission_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunRead,
    responses=CONFLICT_RESPONSES,
)
async def run_mission(
    mission_id: uuid.UUID,
    ctx: Context,
    who: Annotated[Identity, requires(P.RUNS_CONTROL)],
    trigger: Trigger,
) -> RunRead:
    """Run the mission's newest plan; the engine picks the run up at once (202).

    409 when the mission has no plan yet (plan it first: `POST /api/v1/missions/{id}/plan`)
    or cannot run in its state; 404 when there is no such mission.
    """
    return await plan_service.run_mission(
        ctx, mission_id=mission_id, actor=who.actor, trigger=trigger
    )
