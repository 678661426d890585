"""``/api/v1/schedules``: cron schedules that start workflow and mission runs (ADR 0059).

Every route here is made from its declaration in ``missionctl.operations.schedules``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.schedules import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["schedules"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
