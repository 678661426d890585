"""Engine throughput on the embedded default (SQLite), every transition persisted.

Workloads:
- W1: 1,000 no-op builtin steps in 10 layers of 100; ``L{k}_{i}`` depends on ``L{k-1}_{i}`` and
  ``L{k-1}_{(i+1)%100}``;
- W2: 200 independent steps that each sleep 50 ms, workflow concurrency 10;
- W3: a chain of 200 no-op steps.

Each runs through the real engine (``Engine`` + ``services.usecases.execution``) with the production
durability: SQLite in WAL mode with ``synchronous=NORMAL`` — every transition is committed, and a
committed transaction survives a killed process (not a power cut). Wall time runs from starting
the run until the commit of its completion (the ``run.completed`` event, published after commit).

Run: ``.venv/bin/python bench/engine.py`` — prints one JSON line per workload (median of 3).
"""

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from missionctl.agents.registry import AgentRegistry
from missionctl.engine.heap import freeze_startup_heap
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import open_context
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import Settings

REPEATS = 3
ENGINE = EngineConfig(concurrency=100, lease_s=30.0, heartbeat_s=5.0, poll_s=1.0)
DURABILITY = "sqlite-wal-synchronous-normal (each transition committed; survives a killed process)"


def w1() -> dict[str, Any]:
    steps = []
    for k in range(10):
        for i in range(100):
            deps = [] if k == 0 else [f"l{k - 1}_{i}", f"l{k - 1}_{(i + 1) % 100}"]
            steps.append({"id": f"l{k}_{i}", "agent": "builtin:noop", "depends_on": deps})
    return {"name": "w1", "steps": steps}


def w2() -> dict[str, Any]:
    steps = [
        {"id": f"s{i}", "agent": "builtin:sleep", "inputs": {"seconds": 0.05}} for i in range(200)
    ]
    return {"name": "w2", "steps": steps, "max_concurrency": 10}


def w3() -> dict[str, Any]:
    steps = [{"id": "s0", "agent": "builtin:noop"}] + [
        {"id": f"s{i}", "agent": "builtin:noop", "depends_on": [f"s{i - 1}"]} for i in range(1, 200)
    ]
    return {"name": "w3", "steps": steps}


async def measure(definition: dict[str, Any]) -> float:
    """Seconds from starting the run to its completion being committed, on a fresh database."""
    with tempfile.TemporaryDirectory() as home:
        async with open_context(Settings(home=Path(home))) as ctx:
            spec = WorkflowSpec.model_validate(definition)
            workflow = await create_workflow(ctx, spec=spec, actor="user:bench")
            engine = Engine(ctx, AgentRegistry(), config=ENGINE)
            freeze_startup_heap()  # as the programs that run an engine do (once per process)
            stop = asyncio.Event()
            async with ctx.broadcaster.subscribe() as events:
                worker = asyncio.create_task(engine.run(stop))
                await asyncio.sleep(0.05)  # the engine is idle and waiting
                started = time.perf_counter()
                run = await start_run(ctx, workflow_id=workflow.id, actor="user:bench")
                while True:
                    event = await events.get()
                    if event.run_id == run.id and event.type in ("run.completed", "run.failed"):
                        break
                elapsed = time.perf_counter() - started
                stop.set()
                await worker
            if event.type != "run.completed":
                raise RuntimeError(f"{definition['name']} did not complete")
            return elapsed


def main() -> None:
    for name, build in (("W1", w1), ("W2", w2), ("W3", w3)):
        definition = build()
        times = [asyncio.run(measure(definition)) for _ in range(REPEATS)]
        wall = statistics.median(times)
        steps = len(definition["steps"])
        print(
            json.dumps(
                {
                    "workload": name,
                    "steps": steps,
                    "wall_s": round(wall, 3),
                    "steps_per_s": round(steps / wall, 1),
                    "durability": DURABILITY,
                    "engine_concurrency": ENGINE.concurrency,
                    "runs_s": [round(t, 3) for t in times],
                }
            )
        )


if __name__ == "__main__":
    main()
