"""``/api/v1/workers``: the registry of engines, and their lifecycle from the control plane.

Every route here is made from its declaration in ``missionctl.operations.workers``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.workers import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["workers"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
