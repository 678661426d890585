"""How the claim's reads scale with the length of the queue (SQLite, the embedded default).

For each queue length, one run of that many independent steps is started (every step queued)
with a concurrency limit of 10, and then, inside one writer transaction, the two reads every
engine tick makes before it claims are timed: the runs that have ready work, and the oldest
ready steps of those runs (a page of 10). Nothing is claimed, so every repetition sees the same
queue. A claim whose cost grows with the queue makes every tick of a long fan-out slower.

Run: ``.venv/bin/python bench/claim.py`` — prints one JSON line per queue length (medians of
200 repetitions).
"""

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from missionctl.db.types import utcnow
from missionctl.repositories import execution as repo
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import open_context
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import Settings

QUEUE_LENGTHS = (100, 1_000, 5_000)  # 5,000: the most steps a workflow may have
REPEATS = 200
PAGE = 10


async def measure(queued: int) -> dict[str, float]:
    """Median microseconds of each read with ``queued`` steps in the queue."""
    with tempfile.TemporaryDirectory() as home:
        async with open_context(Settings(home=Path(home))) as ctx:
            steps = [{"id": f"s{i}", "agent": "builtin:noop"} for i in range(queued)]
            spec = WorkflowSpec.model_validate(
                {"name": "queue", "steps": steps, "max_concurrency": PAGE}
            )
            workflow = await create_workflow(ctx, spec=spec, actor="user:bench")
            run = await start_run(ctx, workflow_id=workflow.id, actor="user:bench")

            def reads(session: Session) -> dict[str, float]:
                now = utcnow()
                timings: dict[str, list[float]] = {"runs_with_ready_work_us": [], "page_us": []}
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    runs = repo.read_claimable_runs(session, now=now)
                    middle = time.perf_counter()
                    page = repo.read_claimable(session, now=now, run_ids=[run.id], limit=PAGE)
                    ended = time.perf_counter()
                    assert len(runs) == 1 and len(page) == PAGE
                    timings["runs_with_ready_work_us"].append((middle - started) * 1e6)
                    timings["page_us"].append((ended - middle) * 1e6)
                return {name: round(statistics.median(v), 1) for name, v in timings.items()}

            return await ctx.write_blocking(reads)


def main() -> None:
    for queued in QUEUE_LENGTHS:
        figures = asyncio.run(measure(queued))
        print(json.dumps({"benchmark": "claim_reads", "queued_steps": queued, **figures}))


if __name__ == "__main__":
    main()
