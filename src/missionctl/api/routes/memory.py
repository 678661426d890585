"""``/api/v1/memory``: search what finished missions decided, risked and learned (ADR 0055).

Every route here is made from its declaration in ``missionctl.operations.memory``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.memory import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["memory"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
