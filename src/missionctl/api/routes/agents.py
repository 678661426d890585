"""``/api/v1/agents``: the agents workflows may name, and their restrictions (admins change them).

A disabled agent, or one limited to some risk tiers, holds its queued steps back (``step.held``)
instead of failing them; changing the rule releases those it now allows (``step.released``).
The ``command`` agent's rule also lists the programs its steps (and coding steps) run without an
approver (``allowed_programs``), and the ``coding:*`` rule the repositories coding steps may
work on (``allowed_repositories``); a change names only the entries it sets or removes. Agent names
contain ``:`` and ``*`` (``builtin:architect``, ``llm:*``): the path takes them as they are.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, ERROR_RESPONSES
from missionctl.schemas.governance import AgentRead, AgentUpdate
from missionctl.schemas.missions import plain_text
from missionctl.schemas.runs import not_a_number
from missionctl.schemas.utilisation import UtilisationRead, UtilisationWindow
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import agents as agent_service
from missionctl.services.usecases import utilisation as utilisation_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/agents", tags=["agents"], responses=ERROR_RESPONSES
)

# The agents table's name column holds 100 characters.
AgentName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        description="`command`, `builtin:<role>`, `llm:<role>` or `llm:*` (every llm agent).",
    ),
    plain_text(100),  # no NUL, which PostgreSQL cannot compare or store (422, not 500)
]


@router.get("", response_model=list[AgentRead], dependencies=[requires(P.AGENTS_READ)])
async def list_agents(ctx: Context) -> list[AgentRead]:
    """Every agent (and `kind:*`) with its rule and how many queued steps it holds back."""
    return await agent_service.list_agents(ctx)


Time = Annotated[datetime | None, BeforeValidator(not_a_number)]


@router.get("/utilisation", response_model=UtilisationRead, dependencies=[requires(P.AGENTS_READ)])
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


@router.patch("/{name:path}", response_model=AgentRead, responses=BODY_RESPONSES)
async def update_agent(
    name: AgentName,
    body: AgentUpdate,
    ctx: Context,
    who: Annotated[Identity, requires(P.AGENTS_ADMIN)],
) -> AgentRead:
    """Enable or disable an agent, limit its risk tiers, or change `command`'s allow-list.

    Fields left out keep their value. Held steps the new rule allows are released at once (404
    for an unknown agent). `allowed_programs` (only on `command`) maps a program to its entry,
    or to `null` to remove it; programs not named keep theirs, so concurrent changes by two
    admins both land. An entry's `env` names the variables its steps may set without an
    approver besides CI, LANG, LC_*, TZ, NO_COLOR, FORCE_COLOR and TERM. A `command` step
    whose program is not listed waits for an approver, whatever its workflow declares, and so
    does a coding step whose CLI or test command is not. Steps already waiting keep waiting;
    queued steps the new list no longer lets run go to an approver.

    `allowed_repositories` (only on `coding:*`) maps a repository to `true` to allow coding
    steps to work on it or `false` to take it off; the others keep theirs. Empty by default:
    no coding step runs on any repository until an admin allows one.
    """
    return await agent_service.update_agent(ctx, name=name, data=body, actor=who.actor)
