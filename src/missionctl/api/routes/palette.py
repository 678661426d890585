"""``/api/v1/palette``: the command palette's one search over places and actions (ADR 0062).

Its route is made from its declaration in ``missionctl.operations.palette``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.palette import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["palette"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
