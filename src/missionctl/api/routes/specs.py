"""Mini-specs: ``/api/v1/missions/{id}/specs`` and ``/api/v1/specs/{id}/approve|reject``.

Steps implementing a task the spec policy marks (migrations, security, cross-service
interfaces, novel patterns) are held until one of the task's specs is approved and fresh
(ADR 0066, docs/specs.md). Operators write specs; approvers decide on them, once, and never on
their own (403); approving releases the held steps of that task.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.specs import MarkedTask, SpecApprove, SpecRead, SpecReject, SpecWrite
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import specs as spec_service

router = APIRouter(route_class=GuardedRoute, tags=["specs"], responses=ERROR_RESPONSES)
DECIDE_RESPONSES = {**CONFLICT_RESPONSES, **BODY_RESPONSES}

Decider = Annotated[Identity, requires(P.APPROVALS_DECIDE)]
Writer = Annotated[Identity, requires(P.MISSIONS_WRITE)]
SpecId = Annotated[uuid.UUID, Path(description="The spec's id.")]
NO_NOTE = SpecApprove()


@router.get(
    "/missions/{mission_id}/specs",
    response_model=list[SpecRead],
    dependencies=[requires(P.MISSIONS_READ)],
)
async def list_specs(mission_id: uuid.UUID, ctx: Context) -> list[SpecRead]:
    """The mission's specs, oldest first (404 when there is no such mission)."""
    return await spec_service.list_specs(ctx, mission_id=mission_id)


@router.get(
    "/missions/{mission_id}/specs/marked",
    response_model=list[MarkedTask],
    dependencies=[requires(P.MISSIONS_READ)],
)
async def list_marked_tasks(mission_id: uuid.UUID, ctx: Context) -> list[MarkedTask]:
    """The tasks of the newest plan that need a mini-spec, why, and where their spec stands."""
    return await spec_service.marked_tasks(ctx, mission_id=mission_id)


@router.post(
    "/missions/{mission_id}/specs",
    status_code=status.HTTP_201_CREATED,
    response_model=SpecRead,
    responses=BODY_RESPONSES,
)
async def write_spec(mission_id: uuid.UUID, body: SpecWrite, ctx: Context, who: Writer) -> SpecRead:
    """Write a draft spec for a task; it is also kept as an artifact of the mission."""
    return await spec_service.write_spec(
        ctx,
        mission_id=mission_id,
        task_key=body.task_key,
        body=body.body,
        actor=who.actor,
        user=who.user_name,
    )


@router.post("/specs/{spec_id}/approve", response_model=SpecRead, responses=DECIDE_RESPONSES)
async def approve_spec(
    spec_id: SpecId, ctx: Context, who: Decider, body: SpecApprove = NO_NOTE
) -> SpecRead:
    """Approve a draft (409 if decided already, 403 for its author); releases held steps."""
    return await spec_service.decide_spec(
        ctx, spec_id=spec_id, approve=True, actor=who.actor, user=who.user_name, reason=body.reason
    )


@router.post("/specs/{spec_id}/reject", response_model=SpecRead, responses=DECIDE_RESPONSES)
async def reject_spec(spec_id: SpecId, body: SpecReject, ctx: Context, who: Decider) -> SpecRead:
    """Reject a draft, saying why (422 without a `reason`; 409 if decided already)."""
    return await spec_service.decide_spec(
        ctx, spec_id=spec_id, approve=False, actor=who.actor, user=who.user_name, reason=body.reason
    )
