"""Spending caps per agent and per UTC day or month (ADR 0104).

Reading them needs ``prices:read`` (anyone who reads costs), and MCP offers the list; setting
and removing them need ``policies:admin`` (admins) and stay on the API, the pages and the CLI,
as the administration of prices does. A bad agent, period or amount is a 422 naming the field;
nothing is stored.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import DECIMAL_PLACES
from missionctl.operations import Operation
from missionctl.schemas.spending_caps import SpendingCapRead, SpendingCapSet

_SERVICE = "missionctl.services.usecases.spending_caps"

LIST: Operation[list[SpendingCapRead]] = Operation(
    name="list_spending_caps",
    doc="The spending caps, each with its current UTC period: spent, reserved by running "
    "steps, left, its level (warning at 80 %, reached) and the steps it holds back.",
    method="GET",
    path="/spending-caps",
    permission=P.PRICES_READ,
    service=f"{_SERVICE}:list_caps",
    output=list[SpendingCapRead],
    cli="caps list",
    mcp=True,
)
SET: Operation[SpendingCapRead] = Operation(
    name="set_spending_cap",
    doc="Cap what an agent's steps (a name, a kind like llm:*, or * for every agent) may "
    "spend per UTC day or month; setting it again changes the amount. Steps held by a cap "
    "that now lets them fit are released at once.",
    method="PUT",
    path="/spending-caps",
    permission=P.POLICIES_ADMIN,
    service=f"{_SERVICE}:set_cap",
    body=SpendingCapSet,
    refusals={"cap_usd": DECIMAL_PLACES},
    output=SpendingCapRead,
    errors=(409,),
    cli="caps set",
)
REMOVE: Operation[SpendingCapRead] = Operation(
    name="remove_spending_cap",
    doc="Remove a cap (answered as it was); the steps it held are released.",
    method="DELETE",
    path="/spending-caps/{cap_id}",
    permission=P.POLICIES_ADMIN,
    service=f"{_SERVICE}:remove_cap",
    output=SpendingCapRead,
    cli="caps remove",
)

OPERATIONS = (LIST, SET, REMOVE)
