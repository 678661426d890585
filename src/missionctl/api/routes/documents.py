"""``/api/v1/missions/{mission_id}/documents``: the document studio (ADR 0053).

Generating, listing, reading, comparing and exporting documents are made from their
declarations in ``missionctl.operations.documents``. Reading needs ``missions:read``.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.documents import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["documents"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
