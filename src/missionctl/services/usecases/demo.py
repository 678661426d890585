"""The one write of the demo history of its own: claiming an empty log for it (ADR 0071).

Everything else ``missionctl demo seed`` writes goes through the services people use; this
records, as the log's first event, that the history that follows is a demonstration.
"""

from dataclasses import dataclass
from datetime import date

from missionctl.domain.events import DEMO_SEEDED
from missionctl.errors import Conflict
from missionctl.eventlog import NewEvent, append
from missionctl.services.runtime.context import ServiceContext


@dataclass(frozen=True, slots=True)
class DemoClaim:
    """What the demo history will hold: its days and the arguments that decide it."""

    first_day: date
    last_day: date
    seed: int
    anomalies: bool


async def claim_empty_log(ctx: ServiceContext, *, claim: DemoClaim) -> None:
    """Append ``demo.seeded`` as the log's first event, or refuse a log that holds any.

    The event and the check share one transaction, which holds the log's head: of two seeds
    into one database at once, the second finds the first's event and is refused, writing
    nothing.

    Raises:
        Conflict: the event log is not empty (field ``home``).
    """
    async with ctx.write() as session:
        records = await append(
            session,
            [
                NewEvent(
                    type=DEMO_SEEDED,
                    actor="system",
                    payload={
                        "first_day": claim.first_day.isoformat(),
                        "last_day": claim.last_day.isoformat(),
                        "seed": claim.seed,
                        "anomalies": claim.anomalies,
                    },
                )
            ],
        )
        if records[0].seq != 1:
            raise Conflict(
                f"the event log already holds {records[0].seq - 1} events: a demo history is "
                "written into an empty database only; give a new --home (or an empty "
                "database)",
                field="home",
            )
