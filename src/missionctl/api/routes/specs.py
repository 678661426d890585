"""Mini-specs: ``/api/v1/missions/{id}/specs`` and ``/api/v1/specs/{id}/approve|reject``.

Every route here is made from its declaration in ``missionctl.operations.specs``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.specs import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["specs"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
