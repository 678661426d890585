"""``/api/v1/agents``: the agents workflows may name, and their restrictions (admins change them).

Listing the agents, changing one and reading their utilisation are made from their
declarations in ``missionctl.operations.agents``; the ``agent`` convertor their paths use is
registered here.

A disabled agent, or one limited to some risk tiers, holds its queued steps back (``step.held``)
instead of failing them; changing the rule releases those it now allows (``step.released``).
The ``command`` agent's rule also lists the programs its steps (and coding steps) run without an
approver (``allowed_programs``), and the ``coding:*`` rule the repositories coding steps may
work on (``allowed_repositories``); a change names only the entries it sets or removes. Agent names
contain ``:`` and ``*`` (``builtin:architect``, ``llm:*``): the path takes them as they are.
"""

from fastapi import APIRouter
from starlette.convertors import PathConvertor, register_url_convertor

from missionctl.api.declared import add_route
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.operations.agents import OPERATIONS
from missionctl.security.guard import GuardedRoute

router = APIRouter(route_class=GuardedRoute, tags=["agents"], responses=ERROR_RESPONSES)

STATIC_PATHS = ("utilisation",)
"""The paths under ``/agents`` that are not an agent's name."""


class AgentNameConvertor(PathConvertor):
    """An agent's name in a path: any text (names hold ``:`` and ``*``) but :data:`STATIC_PATHS`.

    With the plain ``path`` convertor ``PATCH /agents/{name}`` also served ``/agents/utilisation``,
    so its ``Allow`` named PATCH, which the document does not list there, and a PATCH to it was
    a 404 for an agent called "utilisation" instead of a 405.
    """

    regex = f"(?!({'|'.join(STATIC_PATHS)})$).*"


# Registered before the declared routes are made: a route's path is compiled when it is added.
register_url_convertor("agent", AgentNameConvertor())
for operation in OPERATIONS:
    add_route(router, operation)
