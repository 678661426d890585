"""The emergency stop: stop everything at once, and let it resume.

Reading the controls needs ``runs:read``. Engaging the stop aborts every active run and cancels
its steps; engines stop what they run and claim nothing until it is released. Operators may
engage it (``emergency:stop``: whoever may start work may stop all of it); only an admin may
release it (``emergency:release``). Both are events naming who acted and why; the reason, and
so the body, may be left out. When the database cannot be written the stop holds through the
stop signal anyway, answered with a 202.
"""

from typing import Annotated

from pydantic import StringConstraints

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation, OtherStatus
from missionctl.schemas.governance import ControlsRead, EmergencyStop, EmergencyStopResult
from missionctl.schemas.missions import NO_NUL_PATTERN, plain_text

_SERVICE = "missionctl.services.usecases.controls"
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


READ: Operation[ControlsRead] = Operation(
    name="get_controls",
    doc="Whether the emergency stop is on, since when, by whom and why.",
    method="GET",
    path="/controls",
    permission=P.RUNS_READ,
    service=f"{_SERVICE}:read_controls",
    output=ControlsRead,
    cli="controls",
)
ENGAGE: Operation[EmergencyStopResult] = Operation(
    name="engage_emergency_stop",
    doc="Stop everything now: abort every active run, dispatch nothing (409 if already on).\n\n"
    "202 when the database cannot be written: the stop holds anyway (see ``controls.note``).",
    method="POST",
    path="/emergency-stop",
    permission=P.EMERGENCY_STOP,
    service=f"{_SERVICE}:engage_emergency_stop",
    body=StopBody,
    body_fields=True,
    body_optional=True,
    output=EmergencyStopResult,
    other_statuses=(
        OtherStatus(
            202,
            when=lambda result: not result.controls.recorded,
            description="The database could not be written: the stop holds through the stop "
            "signal (`controls.recorded` false, `controls.note` says where) and is recorded as "
            "soon as the database takes writes.",
        ),
    ),
    errors=(409,),
    cli="stop",
)
RELEASE: Operation[ControlsRead] = Operation(
    name="release_emergency_stop",
    doc="Release the stop: dispatch resumes; aborted runs stay aborted (409 if it is not on).",
    method="POST",
    path="/emergency-stop/release",
    permission=P.EMERGENCY_RELEASE,
    service=f"{_SERVICE}:release_emergency_stop",
    body=StopBody,
    body_fields=True,
    body_optional=True,
    output=ControlsRead,
    errors=(409,),
    cli="release",
)

OPERATIONS = (READ, ENGAGE, RELEASE)
