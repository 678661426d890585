"""``/api/v1/calendar`` and a schedule's iCalendar feed (ADR 0103).

Both routes are made from their declarations in ``missionctl.operations.calendar``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.calendar import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["calendar"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
