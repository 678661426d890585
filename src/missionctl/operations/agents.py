"""Agents: which agents workflows may name, and their restrictions (admins change them).

Reading needs ``agents:read``; changing an agent's rule needs ``agents:admin``. A disabled
agent, or one limited to some risk tiers, holds its queued steps back (``step.held``) instead
of failing them; changing the rule releases those it now allows (``step.released``). Agent
names contain ``:`` and ``*`` (``builtin:architect``, ``llm:*``): the path takes them as they
are, through the ``agent`` convertor ``api.routes.agents`` registers (it leaves
``/agents/utilisation`` to its own route). Utilisation, a query with a window or a span, is
written by hand there.
"""

from typing import Annotated

from pydantic import Field

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.governance import AgentRead, AgentUpdate
from missionctl.schemas.missions import plain_text

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

OPERATIONS = (LIST, UPDATE)
