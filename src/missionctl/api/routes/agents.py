"""``/api/v1/agents``: the agents workflows may name, and their restrictions (admins change them).

Listing the agents and changing one are made from their declarations in
``missionctl.operations.agents``; utilisation (a query with a window or a span) is written
here, and so is the ``agent`` convertor their paths use.

A disabled agent, or one limited to some risk tiers, holds its queued steps back (``step.held``)
instead of failing them; changing the rule releases those it now allows (``step.released``).
The ``command`` agent's rule also lists the programs its steps (and coding steps) run without an
approver (``allowed_programs``), and the ``coding:*`` rule the repositories coding steps may
work on (``allowed_repositories``); a change names only the entries it sets or removes. Agent names
contain ``:`` and ``*`` (``builtin:architect``, ``llm:*``): the path takes them as they are.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator
from starlette.convertors import PathConvertor, register_url_convertor

from missionctl.api.declared import add_route
from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.refusals import WINDOW
from missionctl.operations.agents import OPERATIONS
from missionctl.schemas.runs import not_a_number
from missionctl.schemas.utilisation import UtilisationRead, UtilisationWindow
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import utilisation as utilisation_service

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


Time = Annotated[datetime | None, BeforeValidator(not_a_number)]


@router.get(
    "/agents/utilisation",
    response_model=UtilisationRead,
    dependencies=[requires(P.AGENTS_READ)],
    openapi_extra=refusals({**WINDOW, "window": "not together with since"}),
)
async def read_utilisation(
    ctx: Context,
    window: Annotated[
        UtilisationWindow | None, Query(description="1h, 24h or 7d back from `until` (24h)")
    ] = None,
    since: Annotated[
        Time, Query(description="Start instead of a window (ISO 8601; UTC if no zone)")
    ] = None,
    until: Annotated[Time, Query(description="End (ISO 8601; UTC if no zone); default now")] = None,
) -> UtilisationRead:
    """Per agent: executions, average and p95 duration, failure rate, tokens, cost, busy %.

    Busy % is the seconds the agent's steps ran inside the window, summed, over the window's
    seconds (above 100% when several ran side by side). 422 when both `window` and `since` are
    given, `since` is not before `until`, or the span passes 366 days.
    """
    return await utilisation_service.read_utilisation(ctx, window=window, since=since, until=until)
