"""Two workers that finish the last dependencies of one step at the same time still promote it.

Found by the crash test (``bench/chaos.py``) on PostgreSQL with three workers: runs stayed
``running`` for ever with a fan-in step ``waiting`` after all its dependencies had succeeded.
Each worker's tick recorded its own dependency, then read the other's as still ``running``
(READ COMMITTED: the other tick had not committed yet), so neither promoted the step, and
nothing looks at a waiting step again. The test replays that interleaving exactly.
"""

import asyncio
import threading
import time
from typing import Any

from sqlalchemy.orm import Session

from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.execution import DagCache, StepOutcome, tick, ticks
from missionctl.services.usecases.runs import read_run
from tests.engine.helpers import start, step

# How long the first tick keeps its transaction open once the second one has begun advancing:
# ample time for the second one's status read, which is what the race needs.
OVERLAP_S = 0.5


async def test_concurrent_ticks_both_finishing_a_fan_in_promote_it(
    ctx: ServiceContext, monkeypatch: Any
) -> None:
    run = await start(
        ctx, [step("left"), step("right"), step("join", "builtin:noop", "left", "right")]
    )
    dags = DagCache()
    claimed = await tick(
        ctx, worker="first", outcomes=[], logs=[], capacity=2, lease_s=30, dags=dags
    )
    by_step = {claim.step_id: claim for claim in claimed}
    first_advanced, second_advancing = threading.Event(), threading.Event()
    advance = ticks.advance_runs

    def interleaved(session: Session, state: Any, dags: DagCache, dispatch: Any = None) -> None:
        # On PostgreSQL each worker's tick runs on its own writer thread and connection. On
        # SQLite the second tick cannot begin before the first commits: the waits time out.
        if dispatch is not None and dispatch.worker == "second":
            second_advancing.set()
            advance(session, state, dags, dispatch)
            return
        advance(session, state, dags, dispatch)
        first_advanced.set()
        if second_advancing.wait(timeout=2):
            time.sleep(OVERLAP_S)  # the second tick reads statuses now, before this commits

    monkeypatch.setattr(ticks, "advance_runs", interleaved)
    async with open_context(ctx.settings) as other:
        first = asyncio.create_task(_finish(ctx, "first", by_step["left"]))
        await asyncio.to_thread(first_advanced.wait, 5)
        await _finish(other, "second", by_step["right"])
        await first

    join = next(s for s in (await read_run(ctx, run_id=run.id)).steps if s.step_id == "join")
    assert join.status != "waiting"


async def _finish(ctx: ServiceContext, worker: str, claim: Any) -> None:
    """Record ``claim``'s success in a tick of ``worker`` that may claim what it makes ready."""
    outcome = StepOutcome(claim=claim, ok=True)
    await tick(
        ctx, worker=worker, outcomes=[outcome], logs=[], capacity=4, lease_s=30, dags=DagCache()
    )
