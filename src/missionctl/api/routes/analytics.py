"""``/api/v1/analytics``: the product's own activity, and the insights written from it.

Funnel, trends and retention (ADR 0068); insights and the executive summary (ADR 0070). Every
route here is made from its declaration in ``missionctl.operations.analytics``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.analytics import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["analytics"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
