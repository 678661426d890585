"""``/api/v1/missions/{mission_id}/decisions`` and ``…/risks``: the decision log and risk register.

Reading needs ``missions:read``; adding and editing need ``missions:write`` (ADR 0051). An edit
(PATCH) names the ``version`` it was based on: a stale one is a 409 and changes nothing.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, status
from fastapi.responses import Response

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.register import (
    DecisionCreate,
    DecisionEdit,
    DecisionRead,
    RiskCreate,
    RiskEdit,
    RiskRead,
    RiskRegister,
)
from missionctl.security.downloads import content_disposition
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import decision_export
from missionctl.services.usecases import decision_log as decision_service
from missionctl.services.usecases import risk_register as risk_service

router = APIRouter(
    route_class=GuardedRoute,
    prefix="/missions",
    tags=["decisions and risks"],
    responses=ERROR_RESPONSES,
)

Writer = Annotated[Identity, requires(P.MISSIONS_WRITE)]
ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One ADR Markdown file per decision (`NNNN-title.md`), zipped",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/{mission_id}/decisions",
    response_model=list[DecisionRead],
    dependencies=[requires(P.MISSIONS_READ)],
)
async def list_decisions(mission_id: uuid.UUID, ctx: Context) -> list[DecisionRead]:
    """The mission's decision log: its newest plan's decisions and those people added."""
    return await decision_service.list_decisions(ctx, mission_id=mission_id)


@router.post(
    "/{mission_id}/decisions",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionRead,
    responses=BODY_RESPONSES,
)
async def add_decision(
    mission_id: uuid.UUID, body: DecisionCreate, ctx: Context, who: Writer
) -> DecisionRead:
    """Add a decision (numbered after the mission's last). 422 names the field at fault.

    `supersedes` names a decision of the same mission that this one replaces: that one becomes
    `superseded`.
    """
    return await decision_service.add_decision(
        ctx, mission_id=mission_id, actor=who.actor, data=body
    )


@router.patch(
    "/{mission_id}/decisions/{decision_id}",
    response_model=DecisionRead,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
)
async def edit_decision(
    mission_id: uuid.UUID, decision_id: uuid.UUID, body: DecisionEdit, ctx: Context, who: Writer
) -> DecisionRead:
    """Change a decision: the fields sent, based on `version` (409 when it is stale).

    `supersedes: null` removes the link (the decision it superseded becomes `accepted` again
    unless another decision supersedes it). 422 for a link to the decision itself, to another
    mission's decision or one that would make a cycle, and for `status: superseded` set by hand.
    """
    return await decision_service.edit_decision(
        ctx, mission_id=mission_id, decision_id=decision_id, actor=who.actor, edit=body
    )


@router.get(
    "/{mission_id}/adrs",
    response_class=Response,
    responses=ZIP_RESPONSES,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def export_decisions(mission_id: uuid.UUID, ctx: Context) -> Response:
    """The decision log as ADR Markdown files, one per decision, in a zip to download."""
    files = await decision_export.adr_files(ctx, mission_id=mission_id)
    return Response(
        content=decision_export.zip_files(files),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition(f"mission-{mission_id}-adr.zip")},
    )


@router.get(
    "/{mission_id}/risks",
    response_model=RiskRegister,
    dependencies=[requires(P.MISSIONS_READ)],
)
async def read_risks(mission_id: uuid.UUID, ctx: Context) -> RiskRegister:
    """The mission's risk register and its heat map of open and mitigating risks."""
    return await risk_service.read_register(ctx, mission_id=mission_id)


@router.post(
    "/{mission_id}/risks",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskRead,
    responses=BODY_RESPONSES,
)
async def add_risk(mission_id: uuid.UUID, body: RiskCreate, ctx: Context, who: Writer) -> RiskRead:
    """Add a risk. `mitigation_tasks` must be keys of the newest plan's tasks (422 otherwise)."""
    return await risk_service.add_risk(ctx, mission_id=mission_id, actor=who.actor, data=body)


@router.patch(
    "/{mission_id}/risks/{risk_id}",
    response_model=RiskRead,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
)
async def edit_risk(
    mission_id: uuid.UUID, risk_id: uuid.UUID, body: RiskEdit, ctx: Context, who: Writer
) -> RiskRead:
    """Change a risk: the fields sent, based on `version` (409 when it is stale)."""
    return await risk_service.edit_risk(
        ctx, mission_id=mission_id, risk_id=risk_id, actor=who.actor, edit=body
    )
