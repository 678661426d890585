"""Schedules: cron schedules that start workflow and mission runs (ADR 0059, docs/schedules.md).

Reading needs ``workflows:read``; adding, changing, pausing, resuming, deleting and running
now need ``schedules:write`` (operators). A bad expression, time zone, target, input or budget
is a 422 naming the field; nothing is stored.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import DECIMAL_PLACES
from missionctl.operations import Operation
from missionctl.schemas.schedules import ScheduleCreate, ScheduleEdit, ScheduleRead

_SERVICE = "missionctl.services.usecases.schedules"

CREATE: Operation[ScheduleRead] = Operation(
    name="create_schedule",
    doc="Add a schedule of a workflow version (with its inputs) or of a mission.\n\n"
    "Its first tick is the first after now. 409 when the name is taken.",
    method="POST",
    path="/schedules",
    permission=P.SCHEDULES_WRITE,
    service=f"{_SERVICE}:create_schedule",
    body=ScheduleCreate,
    refusals={"budget_usd": DECIMAL_PLACES},
    output=ScheduleRead,
    status_code=201,
    errors=(409,),
    cli="schedule add",
)
LIST: Operation[list[ScheduleRead]] = Operation(
    name="list_schedules",
    doc="Every schedule by name, with its next tick, last run and success rate.",
    method="GET",
    path="/schedules",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:list_schedules",
    output=list[ScheduleRead],
    cli="schedule list",
    mcp=True,
)
READ: Operation[ScheduleRead] = Operation(
    name="read_schedule",
    doc="One schedule.",
    method="GET",
    path="/schedules/{schedule_id}",
    permission=P.WORKFLOWS_READ,
    service=f"{_SERVICE}:read_schedule",
    output=ScheduleRead,
    cli="schedule show",
    mcp=True,
)
EDIT: Operation[ScheduleRead] = Operation(
    name="edit_schedule",
    doc="Change the fields sent; a new expression or time zone ticks next after now.",
    method="PATCH",
    path="/schedules/{schedule_id}",
    permission=P.SCHEDULES_WRITE,
    service=f"{_SERVICE}:edit_schedule",
    body=ScheduleEdit,
    refusals={"budget_usd": DECIMAL_PLACES},
    body_as="edit",
    output=ScheduleRead,
    errors=(409,),
    cli="schedule edit",
)
PAUSE: Operation[ScheduleRead] = Operation(
    name="pause_schedule",
    doc="Pause it: no tick fires until it is resumed (409 when paused already).",
    method="POST",
    path="/schedules/{schedule_id}/pause",
    permission=P.SCHEDULES_WRITE,
    service=f"{_SERVICE}:pause_schedule",
    output=ScheduleRead,
    errors=(409,),
    cli="schedule pause",
    mcp=True,
)
RESUME: Operation[ScheduleRead] = Operation(
    name="resume_schedule",
    doc="Resume it; ticks missed while paused are skipped or run once, as its misfire policy says.",
    method="POST",
    path="/schedules/{schedule_id}/resume",
    permission=P.SCHEDULES_WRITE,
    service=f"{_SERVICE}:resume_schedule",
    output=ScheduleRead,
    errors=(409,),
    cli="schedule resume",
    mcp=True,
)
RUN_NOW: Operation[ScheduleRead] = Operation(
    name="run_schedule_now",
    doc="Start its run now (paused or not); `last_run_id` names the run.\n\n"
    "409 or 422 when the run cannot start (a mission already running, a budget the workflow "
    "cannot keep); the failed firing is recorded on the schedule.",
    method="POST",
    path="/schedules/{schedule_id}/run-now",
    permission=P.SCHEDULES_WRITE,
    service="missionctl.services.usecases.scheduler:run_now",
    output=ScheduleRead,
    status_code=202,
    errors=(409,),
    needs=("planner",),
    cli="schedule run-now",
    mcp=True,
)
DELETE: Operation[None] = Operation(
    name="delete_schedule",
    doc="Delete it: it never fires again and its name is free; its runs still name it.",
    method="DELETE",
    path="/schedules/{schedule_id}",
    permission=P.SCHEDULES_WRITE,
    service=f"{_SERVICE}:delete_schedule",
    status_code=204,
    cli="schedule delete",
)

OPERATIONS = (CREATE, LIST, READ, EDIT, PAUSE, RESUME, RUN_NOW, DELETE)
