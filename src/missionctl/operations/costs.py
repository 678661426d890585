"""Costs: the tokens and spend of a run, a mission, a workflow or the whole system.

Reading them needs ``runs:read``. The query's rules across its fields (an id that fits the
scope, ``since`` before ``until``, a range of few enough buckets) are the use case's: each
refusal is a 422 naming its field, listed in the route's documentation (``refusals``).
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import ORDER
from missionctl.operations import Operation
from missionctl.schemas.costs import MAX_BUCKETS, CostBreakdown, CostQuery

BUCKETS_RULE = ", ".join(f"at most {n:,} {size} buckets" for size, n in MAX_BUCKETS.items())
"""How many buckets one answer holds, per bucket size."""

READ: Operation[CostBreakdown] = Operation(
    name="read_costs",
    doc="Tokens and spend by agent, model, role and requirement, over time, with the burn "
    "rate.\n\nWithout `since`/`until` the groups add up to what the scope was charged (a "
    "mission's and the system's include planning as the line `(outside runs)`). A task "
    "tracing several requirements has its cost split evenly between them. 422 names the field "
    "at fault: an unknown scope or bucket, an id that does not fit the scope, `since` not "
    "before `until`, a range of more buckets than one answer holds; 404 when the run, mission "
    "or workflow does not exist.",
    method="GET",
    path="/costs",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.costs:read_costs",
    query=CostQuery,
    query_as="query",
    refusals={
        **ORDER,
        "since": f"{ORDER['since']}; {BUCKETS_RULE}",
        "id": "given with scope run, mission or workflow, and only with them",
    },
    output=CostBreakdown,
    cli="costs",
)

OPERATIONS = (READ,)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
