"""Run command steps as an approver would: ``write`` steps, approved through the service.

Command steps may wait for a person's approval (a ``write`` step always does), so tests that
run programs mark their steps ``write`` and approve them through ``services.usecases.approvals``;
that works whether or not the programs are allow-listed.
"""

import asyncio
import time
import uuid
from typing import Any

from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.runs import read_run

FINISHED = {"completed", "failed", "canceled", "aborted"}


def command(step_id: str, argv: list[str], **inputs: Any) -> dict[str, Any]:
    """A ``write`` command step running ``argv``."""
    return {
        "id": step_id,
        "agent": "command",
        "risk_tier": "write",
        "inputs": {"argv": argv, **inputs},
    }


async def approve_until_done(
    ctx: ServiceContext, run_id: uuid.UUID, *, within_s: float = 30.0
) -> RunRead:
    """Approve every step of the run that waits for a decision, until the run ends."""
    deadline = time.monotonic() + within_s
    while True:
        run = await read_run(ctx, run_id=run_id)
        if run.status in FINISHED:
            return run
        for approval in await list_approvals(ctx, run_id=run_id):
            await decide_approval(ctx, ref=approval.id, approve=True, actor="user:tester")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"run stayed {run.status}: {[(s.step_id, s.status) for s in run.steps]}"
            )
        await asyncio.sleep(0.02)
