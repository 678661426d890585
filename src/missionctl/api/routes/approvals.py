"""``/api/v1/approvals``: the queue of gated steps, and the decisions on them.

Every route here is made from its declaration in ``missionctl.operations.approvals``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.approvals import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["approvals"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
