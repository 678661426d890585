"""The audit explorer's run search (its events side is ``operations.events``).

It needs ``audit:read``. The filters arrive as the query's text and the use case reads them
(``schemas.events``): each one at fault is a 422 naming it, in words that say the fix. The
export of a search stays a route of its own (``api.routes.audit``): it streams a file.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import ORDER
from missionctl.operations import Operation
from missionctl.schemas.events import AuditRunQuery
from missionctl.schemas.runs import RunPage

SEARCH_RUNS: Operation[RunPage] = Operation(
    name="search_runs",
    doc="Runs by workflow, agent, who started them, status and when they started; newest "
    "first.\n\nThe events side of the audit search is `GET /api/v1/events`.",
    method="GET",
    path="/audit/runs",
    permission=P.AUDIT_READ,
    service="missionctl.services.usecases.event_feed:search_audit_runs",
    query=AuditRunQuery,
    query_as="query",
    refusals=ORDER,
    output=RunPage,
    cli="audit search",
)

OPERATIONS = (SEARCH_RUNS,)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""
