"""``/api/v1/missions/{mission_id}/decisions`` and ``…/risks``: the decision log and risk register.

Every route here, the ADR export's zip included, is made from its declaration in
``missionctl.operations.register``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.register import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(
    route_class=GuardedRoute, tags=["decisions and risks"], responses=ERROR_RESPONSES
)
for operation in OPERATIONS:
    add_route(router, operation)
