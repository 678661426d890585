"""``/api/v1/missions``: missions, their plans, and their traceability and diagrams.

Every route is made from its declaration in ``missionctl.operations.missions``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.missions import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["missions"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
