"""`GET /api/v1/runs` over 100,000 runs: a filtered first page, and page 50 by keyset paging.

Run: `.venv/bin/python bench/runs_list.py` (SQLite in a temporary directory; PostgreSQL too when
MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py). Each database gets:

- 20 workflows (one step each) and 200 missions, saved through the services;
- 100,000 runs of them, ids and creation times in order, over seven statuses as skewed as a
  live server's (`STATUS_SHARES`: most completed, a few running or paused), one in two for a
  mission, each with its one step run (four agents in turn). They are inserted in
  bulk: the list reads only runs, workflows, missions and step runs, not the event log.
  Then the tables are analysed (PostgreSQL: `VACUUM ANALYZE`), as autovacuum would do.

Then it serves the app in-process (httpx2 ASGITransport, no network; no engine) as an API token
and times, after a warm-up, the median and p95 in milliseconds of:

- `first_page`: `GET /api/v1/runs` (50 newest runs);
- `filtered`: `?status=failed&workflow=wf-07` (a status and a workflow);
- `by_agent`: `?agent=llm:writer`, `text`: `?q=wf-1` (text in names and titles);
- `page_50`: the 50th page of 50 (`cursor` = the 49th page's `next_cursor`);
- `mixed_filters`: `MIXED` in turn, common and rare statuses with and without a workflow or
  an agent, as people switch filters. Each statement runs far more than five times with values
  whose selectivity differs a hundredfold: on PostgreSQL this is where a generic plan, chosen
  after five runs of a prepared statement, would show.
"""

import asyncio
import json
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import create_engine, text

from _databases import backends
from missionctl.app import create_app
from missionctl.db.models import Run, StepRun
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

# The in-process client logs every request at INFO; the figures are the output here.
logging.getLogger("httpx2").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)

RUNS = 100_000
WORKFLOWS = 20
MISSIONS = 200
BATCH = 5_000
PAGE = 50
REQUESTS = 50
WARM_UP = 3
ACTOR = "user:bench"
# Of every 100 runs: how many end in each status.
STATUS_SHARES = {
    "completed": 80,
    "failed": 12,
    "canceled": 3,
    "running": 2,
    "aborted": 1,
    "pending": 1,
    "paused": 1,
}
STATUSES = tuple(status for status, share in STATUS_SHARES.items() for _ in range(share))
MIXED = (
    {"status": "completed"},
    {"status": "paused"},
    {"status": "failed", "workflow": "wf-07"},
    {"status": "running", "workflow": "wf-01"},
    {"status": "completed", "agent": "llm:writer"},
    {"status": "aborted", "agent": "builtin:noop"},
)
AGENTS = ("builtin:noop", "command", "llm:writer", "builtin:sleep")


async def _seed(ctx: ServiceContext) -> None:
    workflows = []
    for n in range(WORKFLOWS):
        spec = WorkflowSpec.model_validate(
            {"name": f"wf-{n:02d}", "steps": [{"id": "only", "agent": "builtin:noop"}]}
        )
        workflows.append((await create_workflow(ctx, spec=spec, actor=ACTOR)).id)
    missions = [
        (await create_mission(ctx, data=MissionCreate(goal=f"Goal {n}"), actor=ACTOR)).id
        for n in range(MISSIONS)
    ]
    start = datetime.now(UTC) - timedelta(days=200)
    for first in range(0, RUNS, BATCH):
        runs, steps = [], []
        for n in range(first, first + BATCH):
            run_id = new_id()
            runs.append(_run(n, run_id, workflows, missions, start))
            steps.append(_step(n, run_id, runs[-1]["status"], start))
        async with ctx.write() as session:
            await session.execute(Run.__table__.insert(), runs)
            await session.execute(StepRun.__table__.insert(), steps)


def _run(
    n: int, run_id: uuid.UUID, workflows: list[uuid.UUID], missions: list[uuid.UUID], start: Any
) -> dict[str, Any]:
    at = start + timedelta(minutes=n * 2)
    return {
        "id": run_id,
        "workflow_id": workflows[n % WORKFLOWS],
        "mission_id": missions[n % MISSIONS] if n % 2 else None,
        "trigger": "api",
        "status": STATUSES[n % len(STATUSES)],
        "inputs": {},
        "budget_micros": None,
        "spent_micros": n % 1000,
        "reserved_micros": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "error": "step only failed" if STATUSES[n % len(STATUSES)] == "failed" else None,
        "rerun_of": None,
        "created_by": ACTOR,
        "created_at": at,
        "started_at": at,
        "ended_at": at + timedelta(seconds=30),
        "updated_at": at,
    }


def _step(n: int, run_id: uuid.UUID, status: str, start: Any) -> dict[str, Any]:
    at = start + timedelta(minutes=n * 2)
    return {
        "id": new_id(),
        "run_id": run_id,
        "step_id": "only",
        "attempt": 1,
        "status": "succeeded" if status == "completed" else "failed",
        "agent": AGENTS[n % len(AGENTS)],
        "risk_tier": "read",
        "inputs": {},
        "outputs": {},
        "estimate_micros": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_micros": 0,
        "created_at": at,
        "updated_at": at,
    }


def _settle(settings: Settings) -> None:
    """Gather the planner statistics a live database has for its tables after bulk inserts.

    PostgreSQL's autovacuum would analyse the new rows (and mark their pages all-visible, so a
    count reads the index alone); it runs on its own schedule, so the bench does it now.
    """
    url = settings.database_url
    if url.startswith("sqlite"):
        url = url.replace("+aiosqlite", "")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE runs, step_runs, workflows, missions"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
    }


async def _time(http: httpx2.AsyncClient, params: dict[str, Any]) -> dict[str, Any]:
    for _ in range(WARM_UP):
        warm = await http.get("/api/v1/runs", params=params)
        assert warm.status_code == 200, warm.text[:500]
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await http.get("/api/v1/runs", params=params)
        samples.append((time.perf_counter() - started) * 1000)
    body = response.json()
    return {**_summary(samples), "items": len(body["items"]), "total": body["total"]}


async def _time_mixed(http: httpx2.AsyncClient) -> dict[str, Any]:
    """Time ``MIXED`` in turn, ``REQUESTS`` rounds after a warm-up of ``WARM_UP`` rounds."""
    samples = []
    for round_ in range(WARM_UP + REQUESTS):
        for params in MIXED:
            started = time.perf_counter()
            response = await http.get("/api/v1/runs", params=params)
            assert response.status_code == 200, response.text[:500]
            if round_ >= WARM_UP:
                samples.append((time.perf_counter() - started) * 1000)
    return {**_summary(samples), "requests": len(samples)}


async def _cursor_of_page(http: httpx2.AsyncClient, page: int) -> str:
    cursor: str | None = None
    for _ in range(page - 1):
        params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        cursor = (await http.get("/api/v1/runs", params=params)).json()["next_cursor"]
        assert cursor is not None
    return cursor or ""


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    """Seed ``settings``' database and time the list on it."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    async with open_context(quiet) as ctx:
        started = time.perf_counter()
        await _seed(ctx)
        seeded_s = time.perf_counter() - started
    _settle(quiet)
    async with open_context(quiet) as ctx:
        await identity.create_user(
            ctx, data=UserCreate(name="bench", role=Role.VIEWER), actor="system"
        )
        _, token = await identity.create_token(ctx, user_name="bench", name="bench", actor="system")
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            cursor = await _cursor_of_page(http, 50)
            return {
                "database": name,
                "runs": RUNS,
                "seeded_s": round(seeded_s, 1),
                "first_page": await _time(http, {"limit": PAGE}),
                "filtered": await _time(http, {"status": "failed", "workflow": "wf-07"}),
                "by_agent": await _time(http, {"agent": "llm:writer"}),
                "text": await _time(http, {"q": "wf-1"}),
                "page_50": await _time(http, {"limit": PAGE, "cursor": cursor}),
                "mixed_filters": await _time_mixed(http),
            }


async def main() -> None:
    results = [await measure(name, settings) for name, settings in backends()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
