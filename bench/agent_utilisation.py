"""Agent utilisation (`GET /api/v1/agents/utilisation`) over 100,000 step runs: p50 and p95.

Run: `.venv/bin/python bench/agent_utilisation.py` (SQLite in a temporary directory;
PostgreSQL too when MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py).
`BENCH_SCALE=0.1` seeds a tenth for a quick look. Each database gets one workflow and 10,000
runs of 10 step runs (100,000 at full scale) over the last 7 days, inserted in bulk: six
agents, durations from 1 to 300 seconds, one step in eight failed, some retried, spend on
the model agents. Then the tables are analysed and the service
(`services.usecases.utilisation.read_utilisation`, what the route, the page and the CLI call) is
timed for the windows 1h, 24h and 7d, after a warm-up: the median and p95 in milliseconds, with the
steps each window counted.
"""

import asyncio
import json
import logging
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text

from _databases import backends
from missionctl.db.models import Run, StepRun
from missionctl.domain.ids import new_id
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.utilisation import read_utilisation
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings

logging.getLogger("alembic").setLevel(logging.WARNING)

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
RUNS = max(int(10_000 * SCALE), 10)
STEPS = 10
BATCH = 1_000
ROUNDS = 20
WARM_UP = 3
ACTOR = "user:bench"
AGENTS = (
    "llm:backend",
    "llm:qa",
    "llm:writer",
    "builtin:noop",
    "builtin:sleep",
    "builtin:architect",
)
SPAN = timedelta(days=7)


async def _seed(ctx: ServiceContext, now: datetime) -> None:
    steps = [{"id": f"s{i}", "agent": AGENTS[i % len(AGENTS)]} for i in range(STEPS)]
    spec = WorkflowSpec.model_validate({"name": "utilisation", "steps": steps})
    workflow = (await create_workflow(ctx, spec=spec, actor=ACTOR)).id
    start = now - SPAN
    gap = SPAN / RUNS
    for first in range(0, RUNS, BATCH):
        runs, rows = [], []
        for n in range(first, min(first + BATCH, RUNS)):
            run_id = new_id()
            at = start + gap * n
            rows += [_step(n, i, run_id, at) for i in range(STEPS)]
            runs.append(_run(run_id, workflow, at))
        async with ctx.write() as session:
            await session.execute(Run.__table__.insert(), runs)
            await session.execute(StepRun.__table__.insert(), rows)


def _step(n: int, i: int, run_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    agent = AGENTS[i % len(AGENTS)]
    cost = 500 + (n * 7 + i * 13) % 4000 if agent.startswith("llm:") else 0
    started = at + timedelta(seconds=i * 5)
    return {
        "id": new_id(),
        "run_id": run_id,
        "step_id": f"s{i}",
        "attempt": 2 if (n + i) % 10 == 0 else 1,
        "status": "failed" if (n + i) % 8 == 0 else "succeeded",
        "agent": agent,
        "risk_tier": "read",
        "inputs": {},
        "outputs": {},
        "estimate_micros": 0,
        "input_tokens": cost * 3,
        "output_tokens": cost,
        "cost_micros": cost,
        "model": "gpt-4o-mini" if cost else None,
        "started_at": started,
        "ended_at": started + timedelta(seconds=1 + (n * 31 + i * 17) % 300),
        "created_at": at,
        "updated_at": at,
    }


def _run(run_id: uuid.UUID, workflow: uuid.UUID, at: datetime) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow_id": workflow,
        "mission_id": None,
        "trigger": "api",
        "status": "completed",
        "inputs": {},
        "budget_micros": None,
        "spent_micros": 0,
        "reserved_micros": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "created_by": ACTOR,
        "created_at": at,
        "started_at": at,
        "ended_at": at + timedelta(seconds=STEPS * 5 + 300),
        "updated_at": at,
    }


def _settle(settings: Settings) -> None:
    """Gather the planner statistics a live database would have after bulk inserts."""
    engine = create_engine(settings.database_url.replace("+aiosqlite", ""))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE runs, step_runs"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


async def _time(ctx: ServiceContext, window: Any, now: datetime) -> dict[str, Any]:
    for _ in range(WARM_UP):
        await read_utilisation(ctx, window=window, now=now)
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        report = await read_utilisation(ctx, window=window, now=now)
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)], 2),
        "executions": sum(line.executions for line in report.agents),
        "agents": len(report.agents),
    }


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    """Seed ``settings``' database and time the utilisation of each window on it."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    now = datetime.now(UTC)
    async with open_context(quiet) as ctx:
        started = time.perf_counter()
        await _seed(ctx, now)
        seeded_s = time.perf_counter() - started
    _settle(quiet)
    async with open_context(quiet) as ctx:
        return {
            "database": name,
            "step_runs": RUNS * STEPS,
            "seeded_s": round(seeded_s, 1),
            **{window: await _time(ctx, window, now) for window in ("1h", "24h", "7d")},
        }


async def main() -> None:
    results = [await measure(name, settings) for name, settings in backends()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
