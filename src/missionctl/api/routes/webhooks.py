"""``/api/v1/webhooks``: outbound webhook subscriptions and their delivery logs (admins only).

Every route here is made from its declaration in ``missionctl.operations.webhooks``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.webhooks import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["webhooks"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
