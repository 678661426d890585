"""``/api/v1/search``: full-text search over step log lines, errors and run events' reasons.

Every route here is made from its declaration in ``missionctl.operations.search``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.search import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["search"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
