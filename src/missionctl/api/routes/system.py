"""How the system is doing: ``GET /api/v1/health/summary`` and ``GET /api/v1/followers``.

Both routes are made from their declarations in ``missionctl.operations.system``. The workers
are ``routes.workers``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.system import OPERATIONS
from missionctl.security.guard import GuardedRoute

# Both routes need an identity: their 401 and 403 are documented with the shared error body.
router = APIRouter(route_class=GuardedRoute, tags=["health"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
