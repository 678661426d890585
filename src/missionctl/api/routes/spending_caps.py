"""``/api/v1/spending-caps``: caps on what agents spend per UTC day or month (ADR 0104).

Every route here is made from its declaration in ``missionctl.operations.spending_caps``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.spending_caps import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["spending caps"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
