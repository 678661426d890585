"""The task board: every task of the newest missions by the state of its step (ADR 0100).

Reading needs ``missions:read``, as the missions it shows do. The board changes nothing: a
card's approve, reject, retry and cancel are the approval's and the run's own operations.
"""

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.board import BoardQuery, BoardRead

READ: Operation[BoardRead] = Operation(
    name="read_board",
    doc="Every task of the newest missions as a card in the column of its state (planned, "
    "queued, running, awaiting approval, blocked, failed, canceled or skipped, done), with the "
    "outcome the record gives an ended one. Filters combine with AND; 404 for an unknown "
    "`mission_id`.",
    method="GET",
    path="/board",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.board:read_board",
    query=BoardQuery,
    output=BoardRead,
    cli="board",
    mcp=True,
)

OPERATIONS = (READ,)
