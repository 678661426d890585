"""``/api/v1/costs``: tokens and spend of a run, a mission, a workflow or the whole system.

Every route here is made from its declaration in ``missionctl.operations.costs``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.costs import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["costs"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
