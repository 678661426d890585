"""``/api/v1/users`` and ``/api/v1/tokens``: people, roles and API tokens (admins only).

What the local ``missionctl user|token`` commands do, over HTTP and as a named identity: the
events record the admin who acted (``user:NAME`` or ``token:NAME``), not ``system``. A token's
secret is in the response that creates it and nowhere else, ever.

Every route here is made from its declaration in ``missionctl.operations.access``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.access import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["access"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
