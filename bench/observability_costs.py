"""`GET /api/v1/costs` over 10,000 runs of 10 steps: each scope's whole breakdown, p50 and p95.

Run: `.venv/bin/python bench/observability_costs.py` (SQLite in a temporary directory;
PostgreSQL too when MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py).
`BENCH_SCALE=0.1` seeds a tenth (1,000 runs) for a quick look. Each database gets:

- 20 workflows (of 10 steps) and 200 missions, each with a plan whose tasks trace
  requirements (two each), saved through the services;
- 10,000 runs over the last 30 days, one in two for a mission, each with 10 step runs:
  five agents (`llm:<role>` and `builtin:noop`), three billed models and none, one step in
  ten retried (spend on both attempts). They are inserted in bulk: the breakdowns read
  `step_runs`, `runs`, `workflows`, `plans` and `missions`, never the event log, so the log
  is left empty (its size does not change these queries). Then the tables are analysed.

Then it serves the app in-process (httpx2 ASGITransport; no engine) as a viewer's API token and
times, after a warm-up, the median and p95 in milliseconds of one breakdown (every grouping,
the time series, the burn rate and the budget, in one request) for:

- `system` (hour buckets, the last 48 h) and `system_day` (day buckets, the last 30 days);
- `system_window`: the system over the last 24 hours (`since`);
- `mission`, `workflow` (500 runs at full scale) and `run`.
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

import httpx2
from sqlalchemy import create_engine, text

from _databases import backends
from missionctl.app import create_app
from missionctl.db.models import Plan, Requirement, Run, StepRun
from missionctl.domain.access import Role
from missionctl.domain.ids import new_id
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import identity
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings

logging.getLogger("httpx2").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
RUNS = max(int(10_000 * SCALE), 20)
STEPS = 10
WORKFLOWS = 20
MISSIONS = max(int(200 * SCALE), 2)
BATCH = 1_000
REQUESTS = 30
WARM_UP = 3
ACTOR = "user:bench"
AGENTS = ("llm:backend", "llm:frontend", "llm:qa", "llm:writer", "builtin:noop")
MODELS = ("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", None)
SPAN = timedelta(days=30)


async def _seed(ctx: ServiceContext) -> dict[str, Any]:
    steps = [{"id": f"s{i}", "agent": AGENTS[i % len(AGENTS)]} for i in range(STEPS)]
    workflows = [
        (
            await create_workflow(
                ctx,
                spec=WorkflowSpec.model_validate({"name": f"wf-{n:02d}", "steps": steps}),
                actor=ACTOR,
            )
        ).id
        for n in range(WORKFLOWS)
    ]
    missions = [
        (await create_mission(ctx, data=MissionCreate(goal=f"Goal {n}"), actor=ACTOR)).id
        for n in range(MISSIONS)
    ]
    async with ctx.write() as session:
        await session.execute(Plan.__table__.insert(), [_plan(m) for m in missions])
        await session.execute(Requirement.__table__.insert(), _requirements(missions))
    start = datetime.now(UTC) - SPAN
    gap = SPAN / RUNS
    run_ids = []
    for first in range(0, RUNS, BATCH):
        runs, rows = [], []
        for n in range(first, min(first + BATCH, RUNS)):
            run_id = new_id()
            run_ids.append(run_id)
            at = start + gap * n
            run_steps = [_step(n, i, run_id, at) for i in range(STEPS)]
            rows += run_steps
            runs.append(_run(n, run_id, workflows, missions, at, run_steps))
        async with ctx.write() as session:
            await session.execute(Run.__table__.insert(), runs)
            await session.execute(StepRun.__table__.insert(), rows)
    return {"mission": str(missions[1]), "run": str(run_ids[len(run_ids) // 2])}


def _plan(mission_id: uuid.UUID) -> dict[str, Any]:
    tasks = [{"key": f"s{i}", "traces": [f"R{i % 4}", f"R{(i + 1) % 4}"]} for i in range(STEPS)]
    plan_id = uuid.uuid5(uuid.NAMESPACE_OID, str(mission_id))
    return {
        "id": plan_id,
        "mission_id": mission_id,
        "version": 1,
        "source": "local",
        **{"tasks": tasks},
    }


def _requirements(missions: list[uuid.UUID]) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "mission_id": m,
            "plan_id": uuid.uuid5(uuid.NAMESPACE_OID, str(m)),
            "key": f"R{k}",
            "text": f"Requirement {k}",
        }
        for m in missions
        for k in range(4)
    ]


def _step(n: int, i: int, run_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    model = MODELS[(n + i) % len(MODELS)] if AGENTS[i % len(AGENTS)] != "builtin:noop" else None
    cost = 0 if model is None else 500 + (n * 7 + i * 13) % 4000
    retried = model is not None and (n + i) % 10 == 0
    started = at + timedelta(seconds=i * 20)
    return {
        "id": new_id(),
        "run_id": run_id,
        "step_id": f"s{i}",
        "attempt": 2 if retried else 1,
        "status": "succeeded",
        "agent": AGENTS[i % len(AGENTS)],
        "risk_tier": "read",
        "inputs": {},
        "outputs": {},
        "estimate_micros": 0,
        "input_tokens": cost * 3,
        "output_tokens": cost,
        "cost_micros": cost,
        "model": model,
        "earlier_input_tokens": cost if retried else 0,
        "earlier_output_tokens": cost // 3 if retried else 0,
        "earlier_cost_micros": cost // 2 if retried else 0,
        "started_at": started,
        "ended_at": started + timedelta(seconds=15),
        "created_at": at,
        "updated_at": at,
    }


def _run(
    n: int,
    run_id: uuid.UUID,
    workflows: list[uuid.UUID],
    missions: list[uuid.UUID],
    at: datetime,
    steps: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow_id": workflows[n % WORKFLOWS],
        "mission_id": missions[n % MISSIONS] if n % 2 else None,
        "trigger": "api",
        "status": "completed",
        "inputs": {},
        "budget_micros": 1_000_000,
        "spent_micros": sum(s["cost_micros"] + s["earlier_cost_micros"] for s in steps),
        "reserved_micros": 0,
        "input_tokens": sum(s["input_tokens"] + s["earlier_input_tokens"] for s in steps),
        "output_tokens": sum(s["output_tokens"] + s["earlier_output_tokens"] for s in steps),
        "created_by": ACTOR,
        "created_at": at,
        "started_at": at,
        "ended_at": at + timedelta(seconds=STEPS * 20),
        "updated_at": at,
    }


def _settle(settings: Settings) -> None:
    """Gather the planner statistics a live database would have after bulk inserts."""
    url = settings.database_url.replace("+aiosqlite", "")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # A mission's counters hold its runs' spend, as the engine keeps them.
        for column in ("spent_micros", "input_tokens", "output_tokens"):
            conn.execute(
                text(
                    f"UPDATE missions SET {column} = (SELECT COALESCE(SUM(runs.{column}), 0) "
                    "FROM runs WHERE runs.mission_id = missions.id)"
                )
            )
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE runs, step_runs, workflows, missions, plans"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)], 2),
    }


async def _time(http: httpx2.AsyncClient, params: dict[str, Any]) -> dict[str, Any]:
    for _ in range(WARM_UP):
        warm = await http.get("/api/v1/costs", params=params)
        assert warm.status_code == 200, warm.text[:500]
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await http.get("/api/v1/costs", params=params)
        samples.append((time.perf_counter() - started) * 1000)
    body = response.json()
    return {**_summary(samples), "runs": body["runs"], "cost_usd": body["cost_usd"]}


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    """Seed ``settings``' database and time the breakdowns on it."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    async with open_context(quiet) as ctx:
        started = time.perf_counter()
        ids = await _seed(ctx)
        seeded_s = time.perf_counter() - started
        await identity.create_user(
            ctx, data=UserCreate(name="bench", role=Role.VIEWER), actor="system"
        )
        _, token = await identity.create_token(ctx, user_name="bench", name="bench", actor="system")
    _settle(quiet)
    app = create_app(quiet)
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            return {
                "database": name,
                "runs": RUNS,
                "step_runs": RUNS * STEPS,
                "seeded_s": round(seeded_s, 1),
                "system": await _time(http, {}),
                "system_day": await _time(http, {"bucket": "day"}),
                "system_window": await _time(http, {"since": day_ago}),
                "mission": await _time(http, {"scope": "mission", "id": ids["mission"]}),
                "workflow": await _time(http, {"scope": "workflow", "id": "wf-03"}),
                "run": await _time(http, {"scope": "run", "id": ids["run"]}),
            }


async def main() -> None:
    results = [await measure(name, settings) for name, settings in backends()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
