"""How the system is doing: its vital figures, and the followers of the event log (ADR 0086).

Reading the figures needs ``runs:read``, the followers ``agents:read``.
"""

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.health import FollowerRead, HealthSummaryRead

SUMMARY: Operation[HealthSummaryRead] = Operation(
    name="health_summary",
    doc="Queue depth, running and recently failed steps, the burn rate, approvals, live "
    "workers.\n\nThe figures are read at most once a second for every caller together.",
    method="GET",
    path="/health/summary",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.health:read_cached_health_summary",
    needs=("health_cache",),
    output=HealthSummaryRead,
    cli="health",
)
FOLLOWERS: Operation[list[FollowerRead]] = Operation(
    name="list_followers",
    doc="Each follower of the log (the search index, memory, analytics, the webhook outbox).\n\n"
    "How far it has read and how far behind the log's head it is, in events and in seconds "
    "since the oldest event it has not read was appended.",
    method="GET",
    path="/followers",
    permission=P.AGENTS_READ,
    service="missionctl.services.followers:follower_lags",
    output=list[FollowerRead],
    cli="followers",
)

OPERATIONS = (SUMMARY, FOLLOWERS)
