"""``/api/v1/controls`` and ``/api/v1/emergency-stop``: stop everything, and let it resume.

Engaging the stop aborts every active run and cancels its steps; engines stop what they run and
claim nothing until an admin releases it. Operators may engage it (whoever may start work may
stop all of it); only an admin may release it. Both are events naming who acted and why.
"""

from typing import Annotated

from fastapi import APIRouter
from pydantic import StringConstraints

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.governance import ControlsRead, EmergencyStop, EmergencyStopResult
from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import controls as control_service

router = APIRouter(route_class=GuardedRoute, tags=["controls"], responses=ERROR_RESPONSES)
WRITE_RESPONSES = {**CONFLICT_RESPONSES, **BODY_RESPONSES}
REASON_MAX_CHARS = 2000


class StopBody(EmergencyStop):
    """Why everything is being stopped (or released)."""

    # Checked as sent (before stripping) and free of NUL, which PostgreSQL cannot store.
    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, max_length=REASON_MAX_CHARS, pattern=NO_NUL_PATTERN
        ),
        plain_text(REASON_MAX_CHARS),
    ] = ""


# The reason is optional, and so is the body.
NO_REASON = StopBody()


@router.get("/controls", response_model=ControlsRead, dependencies=[requires(P.RUNS_READ)])
async def get_controls(ctx: Context) -> ControlsRead:
    """Whether the emergency stop is on, since when, by whom and why."""
    return await control_service.read_controls(ctx)


@router.post("/emergency-stop", response_model=EmergencyStopResult, responses=WRITE_RESPONSES)
async def engage_emergency_stop(
    ctx: Context,
    who: Annotated[Identity, requires(P.EMERGENCY_STOP)],
    body: StopBody = NO_REASON,
) -> EmergencyStopResult:
    """Stop everything now: abort every active run, dispatch nothing (409 if already on)."""
    return await control_service.engage_emergency_stop(ctx, actor=who.actor, reason=body.reason)


@router.post("/emergency-stop/release", response_model=ControlsRead, responses=WRITE_RESPONSES)
async def release_emergency_stop(
    ctx: Context,
    who: Annotated[Identity, requires(P.EMERGENCY_RELEASE)],
    body: StopBody = NO_REASON,
) -> ControlsRead:
    """Release the stop: dispatch resumes; aborted runs stay aborted (409 if it is not on)."""
    return await control_service.release_emergency_stop(ctx, actor=who.actor, reason=body.reason)
