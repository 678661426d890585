"""``/api/v1/controls`` and ``/api/v1/emergency-stop``: stop everything, and let it resume.

Every route here is made from its declaration in ``missionctl.operations.controls``, which
says who may engage and release the stop, and when the stop is answered with a 202.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.controls import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["controls"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
