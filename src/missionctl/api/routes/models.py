"""``/api/v1/models``: the model catalogue that routing chooses from (ADR 0119).

Every route here is made from its declaration in ``missionctl.operations.models``. Model names
contain ``.``, ``-`` and ``/`` (``openai/gpt-4.1``): the path takes them as they are.
"""

from fastapi import APIRouter

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.models import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["models"], responses=ERROR_RESPONSES)
for operation in OPERATIONS:
    add_route(router, operation)
