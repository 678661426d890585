"""How the system is doing: the followers of the event log (ADR 0086).

Reading needs ``agents:read``. The health summary (``GET /health/summary``) is written by hand
in ``api.routes.system``: its figures come from a cache the app shares with the pages, not
from a use case.
"""

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.health import FollowerRead

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

OPERATIONS = (FOLLOWERS,)
