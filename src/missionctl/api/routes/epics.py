"""``/api/v1/epics``: named groups of missions (ADR 0102).

Every route here is made from its declaration in ``missionctl.operations.epics``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.epics import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["epics"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
