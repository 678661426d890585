"""What an engine does when a run it finished has ended."""

import uuid

from missionctl.errors import Conflict
from missionctl.services import ServiceContext
from missionctl.services.usecases.reports import write_run_report


async def write_report_when_run_ends(ctx: ServiceContext, run_id: uuid.UUID) -> None:
    """Write the run's report (Markdown and JSON artifacts).

    A run resumed (a failed step retried) before this ran is not over: it gets its report
    when it ends again, so the ``Conflict`` that says "still running" is not an error here.
    """
    try:
        await write_run_report(ctx, run_id=run_id)
    except Conflict:
        return
