"""``/api/v1/calendar`` and a schedule's iCalendar feed (ADR 0103).

The calendar's route is made from its declaration in ``missionctl.operations.calendar``. The
feed answers ``text/calendar`` for a team's calendar application, which reads it with an API
token (``Authorization: Bearer``), as every route is read.
"""

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.calendar import OPERATIONS
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import calendar as calendar_service

router = APIRouter(route_class=GuardedRoute, tags=["calendar"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)

FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The schedule's firings of the next 60 days as iCalendar events "
        "(RFC 5545), in the schedule's time zone; none while it is paused",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    },
}


@router.get(
    "/schedules/{schedule_id}/calendar.ics",
    response_class=Response,
    responses=FEED_RESPONSES,
    dependencies=[requires(P.WORKFLOWS_READ)],
)
async def schedule_feed(schedule_id: uuid.UUID, ctx: Context) -> Response:
    """A schedule's next firings as an iCalendar file, for a team's calendar."""
    content = await calendar_service.schedule_feed(ctx, schedule_id=schedule_id)
    return Response(
        content=content,
        media_type="text/calendar",
        headers={"Content-Disposition": f'inline; filename="schedule-{schedule_id}.ics"'},
    )
