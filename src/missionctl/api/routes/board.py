"""``/api/v1/board``: the task board (ADR 0100).

Every route here is made from its declaration in ``missionctl.operations.board``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.board import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["board"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
