"""The engine's tick alone: the writer's work per tick, without agents or the event loop's waits.

For each workload of ``bench/engine.py`` (W1, W2, W3), a run is started and then driven by
calling ``services.usecases.execution.tick`` directly, feeding each tick's claims back as successes
to the next, until the run is done: every result, promotion, claim and event is written exactly as
the engine writes them. This isolates the tick from the agents and the loop's scheduling, and
is deterministic enough to count instructions under Callgrind when the wall clock is too noisy:
``valgrind --tool=callgrind .venv/bin/python bench/ticks.py w3 --runs 3``.

Run: ``.venv/bin/python bench/ticks.py [w1|w2|w3 ...] [--runs N]`` — prints one JSON line per
workload: ticks per run and the median microseconds per tick (over all ticks of N runs).
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from engine import w1, w2, w3  # the workloads of bench/engine.py
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import open_context
from missionctl.services.usecases import execution
from missionctl.services.usecases.execution import DagCache, PolicyCache, StepOutcome
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import Settings

WORKLOADS = {"w1": w1, "w2": w2, "w3": w3}


async def drive(name: str, runs: int) -> dict[str, object]:
    """Start ``runs`` runs of a workload one after another, ticking each to its end."""
    with tempfile.TemporaryDirectory() as home:
        async with open_context(Settings(home=Path(home))) as ctx:
            spec = WorkflowSpec.model_validate(WORKLOADS[name]())
            workflow = await create_workflow(ctx, spec=spec, actor="user:bench")
            dags, policy = DagCache(ctx.dags), PolicyCache()
            durations: list[float] = []
            ticks_per_run = 0
            for _ in range(runs):
                await start_run(ctx, workflow_id=workflow.id, actor="user:bench")
                outcomes: list[StepOutcome] = []
                ticks_per_run = 0
                while True:
                    started = time.perf_counter()
                    claimed = await execution.tick(
                        ctx,
                        worker="bench",
                        outcomes=outcomes,
                        logs=[],
                        capacity=100,
                        lease_s=30.0,
                        dags=dags,
                        policy=policy,
                    )
                    durations.append(time.perf_counter() - started)
                    ticks_per_run += 1
                    if not claimed and not outcomes:
                        break  # the last tick recorded the last results and finished the run
                    outcomes = [StepOutcome(claim=c, ok=True, duration_ms=1) for c in claimed]
            return {
                "workload": name.upper(),
                "runs": runs,
                "ticks_per_run": ticks_per_run,
                "tick_us_median": round(statistics.median(durations) * 1e6, 1),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="w1, w2 and/or w3 (default: all three)")
    parser.add_argument("--runs", type=int, default=3, help="runs per workload (default 3)")
    args = parser.parse_args()
    names = [name.lower() for name in args.workloads] or list(WORKLOADS)
    if unknown := [name for name in names if name not in WORKLOADS]:
        parser.error(f"unknown workload(s) {', '.join(unknown)}: choose from w1, w2, w3")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for name in names:
        print(json.dumps(asyncio.run(drive(name, args.runs))))


if __name__ == "__main__":
    main()
