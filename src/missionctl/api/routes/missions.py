"""``/api/v1/missions``: missions, their plans, and their traceability and diagrams.

Every route but planning is made from its declaration in ``missionctl.operations.missions``.
Planning is written here: its body may be left out or sent as ``null`` (then nothing changes
before planning), which a declaration does not state.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, status
from fastapi.responses import JSONResponse

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, Identity, P, RuntimeDep, requires
from missionctl.api.errors import (
    BODY_RESPONSES,
    CONFLICT_RESPONSES,
    ERROR_RESPONSES,
    LLM_RESPONSES,
)
from missionctl.operations.missions import ANSWER, OPERATIONS
from missionctl.schemas.clarifications import ClarificationRead
from missionctl.schemas.plans import PlanAgain, PlanRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import plans as plan_service

router = APIRouter(route_class=GuardedRoute, tags=["missions"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

# Planning answers 201 with the plan, or 202 with the planner's questions (ADR 0035), as
# answering them does.
[ASKED] = ANSWER.other_statuses


@router.post(
    "/missions/{mission_id}/plan",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses={202: {"model": ASKED.model, "description": ASKED.description}}
    | CONFLICT_RESPONSES
    | LLM_RESPONSES
    | BODY_RESPONSES,
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
    if isinstance(outcome, ClarificationRead):
        return JSONResponse(status_code=202, content=outcome.model_dump(mode="json"))
    return outcome
