"""A mission's mini-specs: the tasks that need one, their specs, and the forms (ADR 0066).

``GET /missions/{id}/specs`` is a page; htmx gets its ``spec_panel`` block alone, which the
mission page loads into its "Mini-specs" card. Writing a spec needs ``missions:write``
(operators); approving or rejecting one needs ``approvals:decide`` (approvers), and the
service refuses the spec's own author. Both forms answer with a 303 back to the page.
"""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.errors import NotFound, Problem, ValidationFailed
from missionctl.schemas.specs import SPEC_BODY_MAX_CHARS, SPEC_REASON_MAX_CHARS, SpecWrite
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import specs as spec_service
from missionctl.web.deps import (
    Context,
    Identity,
    MissionId,
    P,
    WriteMissions,
    requires,
    wants_fragment,
)
from missionctl.web.forms import FORM_ERROR, errors_from_validation
from missionctl.web.templating import render

PAGE = "pages/specs.html"
DecideSpecs = Annotated[Identity, requires(P.APPROVALS_DECIDE)]


def _spec_id(spec_id: Annotated[str, Path()]) -> uuid.UUID:
    try:
        return uuid.UUID(spec_id)
    except ValueError:
        raise NotFound(f"no spec with id {spec_id}", field="spec_id") from None


SpecId = Annotated[uuid.UUID, Depends(_spec_id)]


def spec_request(task_key: str, body: str) -> SpecWrite:
    """The spec the form sends, checked as the API checks it.

    Raises:
        ValidationFailed: a bad task key or body, each problem naming its field.
    """
    try:
        return SpecWrite.model_validate({"task_key": task_key, "body": body})
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        raise ValidationFailed(
            [Problem(None if f == FORM_ERROR else f, m) for f, m in errors.items()]
        ) from None


router = APIRouter(route_class=GuardedRoute)


@router.get("/missions/{mission_id}/specs", dependencies=[requires(P.MISSIONS_READ)])
async def specs_page(request: Request, ctx: Context, mission_id: MissionId) -> Response:
    """The marked tasks with their spec status, every spec, and the forms.

    Raises:
        NotFound: no such mission (a 404 page).
    """
    context = {
        "mission": await mission_service.read_mission(ctx, mission_id=mission_id),
        "marked": await spec_service.marked_tasks(ctx, mission_id=mission_id),
        "specs": await spec_service.list_specs(ctx, mission_id=mission_id),
        "body_max": SPEC_BODY_MAX_CHARS,
        "reason_max": SPEC_REASON_MAX_CHARS,
    }
    block = "spec_panel" if wants_fragment(request) else None
    return render(request, PAGE, context, block=block)


@router.post("/missions/{mission_id}/specs")
async def write_spec(
    ctx: Context,
    who: WriteMissions,
    mission_id: MissionId,
    task_key: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=2 * SPEC_BODY_MAX_CHARS)],
) -> Response:
    """Write a draft spec for a task, then show the page again.

    Raises:
        ValidationFailed: a bad task key or body (the error page names the field).
        NotFound: no such mission.
    """
    data = spec_request(task_key, body)
    await spec_service.write_spec(
        ctx,
        mission_id=mission_id,
        task_key=data.task_key,
        body=data.body,
        actor=who.actor,
        user=who.user_name,
    )
    return RedirectResponse(f"/missions/{mission_id}/specs", status_code=HTTP_303_SEE_OTHER)


@router.post("/missions/{mission_id}/specs/{spec_id}/decide")
async def decide_spec(
    ctx: Context,
    who: DecideSpecs,
    mission_id: MissionId,
    spec_id: SpecId,
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=SPEC_REASON_MAX_CHARS)] = "",
) -> Response:
    """Approve (releasing the task's held steps) or reject (with a reason) a draft.

    Raises:
        ValidationFailed: a rejection without a reason.
        Conflict: decided already. PermissionDenied: the decider wrote it.
    """
    await spec_service.decide_spec(
        ctx,
        spec_id=spec_id,
        approve=decision == "approve",
        actor=who.actor,
        user=who.user_name,
        reason=reason,
    )
    return RedirectResponse(f"/missions/{mission_id}/specs", status_code=HTTP_303_SEE_OTHER)
