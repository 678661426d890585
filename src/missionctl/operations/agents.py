"""Agents: which agents workflows may name, and their restrictions (admins change them).

Reading needs ``agents:read``; changing an agent's rule needs ``agents:admin``. A disabled
agent, or one limited to some risk tiers, holds its queued steps back (``step.held``) instead
of failing them; changing the rule releases those it now allows (``step.released``). Agent
names contain ``:`` and ``*`` (``builtin:architect``, ``llm:*``): the path takes them as they
are, through the ``agent`` convertor ``api.routes.agents`` registers (it leaves
``/agents/utilisation`` to its own route). Reading their utilisation, over a window or a span,
needs ``agents:read`` too.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import WINDOW
from missionctl.operations import Operation
from missionctl.schemas.governance import AgentRead, AgentUpdate
from missionctl.schemas.missions import plain_text
from missionctl.schemas.runs import not_a_number
from missionctl.schemas.utilisation import UtilisationRead, UtilisationWindow

_SERVICE = "missionctl.services.usecases.agents"

# The agents table's name column holds 100 characters.
AgentName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="`command`, `builtin:<role>`, `llm:<role>` or `llm:*` (every llm agent).",
    ),
    plain_text(100),  # no NUL, which PostgreSQL cannot compare or store (422, not 500)
]

Time = Annotated[datetime | None, BeforeValidator(not_a_number)]
"""A time as ISO 8601 text, never a number (Unix seconds)."""


class UtilisationQuery(BaseModel):
    """A window back from a time, or a span."""

    model_config = ConfigDict(extra="forbid")

    window: UtilisationWindow | None = Field(
        None, description="1h, 24h or 7d back from `until` (24h)"
    )
    since: Time = Field(None, description="Start instead of a window (ISO 8601; UTC if no zone)")
    until: Time = Field(None, description="End (ISO 8601; UTC if no zone); default now")


LIST: Operation[list[AgentRead]] = Operation(
    name="list_agents",
    doc="Every agent (and `kind:*`) with its rule and how many queued steps it holds back.",
    method="GET",
    path="/agents",
    permission=P.AGENTS_READ,
    service=f"{_SERVICE}:list_agents",
    output=list[AgentRead],
    cli="agents list",
)
UPDATE: Operation[AgentRead] = Operation(
    name="update_agent",
    doc="Enable or disable an agent, limit its risk tiers, or change `command`'s allow-list.\n\n"
    "Fields left out keep their value. Held steps the new rule allows are released at once (404 "
    "for an unknown agent). `allowed_programs` (only on `command`: 409 on another) maps a "
    "program to its entry, or to `null` to remove it; programs not named keep theirs, so "
    "concurrent changes by two admins both land. An entry's `env` names the variables its steps "
    "may set without an approver besides CI, LANG, LC_*, TZ, NO_COLOR, FORCE_COLOR and TERM. A "
    "`command` step whose program is not listed waits for an approver, whatever its workflow "
    "declares, and so does a coding step whose CLI or test command is not. Steps already waiting "
    "keep waiting; queued steps the new list no longer lets run go to an approver.\n\n"
    "`allowed_repositories` (only on `coding:*`) maps a repository to `true` to allow coding "
    "steps to work on it or `false` to take it off; the others keep theirs. Empty by default: "
    "no coding step runs on any repository until an admin allows one.",
    method="PATCH",
    path="/agents/{name:agent}",
    permission=P.AGENTS_ADMIN,
    service=f"{_SERVICE}:update_agent",
    body=AgentUpdate,
    path_types={"name": AgentName},
    output=AgentRead,
    errors=(409,),
    refusals={
        "allowed_programs": "each program is a bare name (pytest) or an absolute path without "
        "empty, '.' or '..' parts; no control characters, no space at either end; each `env` "
        "entry names an environment variable",
        "allowed_repositories": "each repository an absolute path or a clone URL, without "
        "control characters or a space at either end",
    },
    cli="agents disable",  # and enable, restrict, allow, disallow, (dis)allow-repository
)

UTILISATION: Operation[UtilisationRead] = Operation(
    name="read_utilisation",
    doc="Per agent: executions, average and p95 duration, failure rate, tokens, cost, busy %.\n\n"
    "Busy % is the seconds the agent's steps ran inside the window, summed, over the window's "
    "seconds (above 100% when several ran side by side). 422 when both `window` and `since` are "
    "given, `since` is not before `until`, or the span passes 366 days.",
    method="GET",
    path="/agents/utilisation",
    permission=P.AGENTS_READ,
    service="missionctl.services.usecases.utilisation:read_utilisation",
    query=UtilisationQuery,
    refusals={**WINDOW, "window": "not together with since"},
    output=UtilisationRead,
    cli="agents utilisation",
)

OPERATIONS = (LIST, UPDATE, UTILISATION)
