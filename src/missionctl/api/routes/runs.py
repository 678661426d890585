"""``/api/v1/runs``: the runs list with its filters; a run read, cancelled, retried, rerun.

Every route here is made from its declaration in ``missionctl.operations.runs``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.runs import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["runs"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
