"""``/api/v1/schedules``: cron schedules that start workflow and mission runs (ADR 0059).

Reading needs ``workflows:read``; adding, changing, pausing, resuming, deleting and running
now need ``schedules:write`` (operators). A bad expression, time zone, target, input or budget
is a 422 naming the field; nothing is stored.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from missionctl.api.deps import Context, Identity, P, RuntimeDep, requires
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.schedules import ScheduleCreate, ScheduleEdit, ScheduleRead
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import scheduler
from missionctl.services.usecases import schedules as schedule_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/schedules", tags=["schedules"], responses=ERROR_RESPONSES
)

Writer = Annotated[Identity, requires(P.SCHEDULES_WRITE)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ScheduleRead, responses=BODY_RESPONSES
)
async def create_schedule(body: ScheduleCreate, ctx: Context, who: Writer) -> ScheduleRead:
    """Add a schedule of a workflow version (with its inputs) or of a mission.

    Its first tick is the first after now. 409 when the name is taken.
    """
    return await schedule_service.create_schedule(ctx, data=body, actor=who.actor)


@router.get("", response_model=list[ScheduleRead], dependencies=[requires(P.WORKFLOWS_READ)])
async def list_schedules(ctx: Context) -> list[ScheduleRead]:
    """Every schedule by name, with its next tick, last run and success rate."""
    return await schedule_service.list_schedules(ctx)


@router.get(
    "/{schedule_id}", response_model=ScheduleRead, dependencies=[requires(P.WORKFLOWS_READ)]
)
async def read_schedule(schedule_id: uuid.UUID, ctx: Context) -> ScheduleRead:
    """One schedule."""
    return await schedule_service.read_schedule(ctx, schedule_id=schedule_id)


@router.patch(
    "/{schedule_id}",
    response_model=ScheduleRead,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
)
async def edit_schedule(
    schedule_id: uuid.UUID, body: ScheduleEdit, ctx: Context, who: Writer
) -> ScheduleRead:
    """Change the fields sent; a new expression or time zone ticks next after now."""
    return await schedule_service.edit_schedule(
        ctx, schedule_id=schedule_id, edit=body, actor=who.actor
    )


@router.post("/{schedule_id}/pause", response_model=ScheduleRead, responses=CONFLICT_RESPONSES)
async def pause_schedule(schedule_id: uuid.UUID, ctx: Context, who: Writer) -> ScheduleRead:
    """Pause it: no tick fires until it is resumed (409 when paused already)."""
    return await schedule_service.pause_schedule(ctx, schedule_id=schedule_id, actor=who.actor)


@router.post("/{schedule_id}/resume", response_model=ScheduleRead, responses=CONFLICT_RESPONSES)
async def resume_schedule(schedule_id: uuid.UUID, ctx: Context, who: Writer) -> ScheduleRead:
    """Resume it; ticks missed while paused are skipped or run once, as its misfire policy says."""
    return await schedule_service.resume_schedule(ctx, schedule_id=schedule_id, actor=who.actor)


@router.post(
    "/{schedule_id}/run-now",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ScheduleRead,
    responses=CONFLICT_RESPONSES | BODY_RESPONSES,
)
async def run_now(
    schedule_id: uuid.UUID, ctx: Context, runtime: RuntimeDep, who: Writer
) -> ScheduleRead:
    """Start its run now (paused or not); `last_run_id` names the run.

    409 or 422 when the run cannot start (a mission already running, a budget the workflow
    cannot keep); the failed firing is recorded on the schedule.
    """
    return await scheduler.run_now(
        ctx, schedule_id=schedule_id, actor=who.actor, planner=runtime.planner
    )


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(schedule_id: uuid.UUID, ctx: Context, who: Writer) -> Response:
    """Delete it: it never fires again and its name is free; its runs still name it."""
    await schedule_service.delete_schedule(ctx, schedule_id=schedule_id, actor=who.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
