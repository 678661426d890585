"""``/api/v1/templates``: the template gallery (ADR 0065, docs/templates.md).

Every route here is made from its declaration in ``missionctl.operations.templates``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.templates import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["templates"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
