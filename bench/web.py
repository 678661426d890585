"""Dashboard server time: the missions page and a busy mission's page.

Run: `.venv/bin/python bench/web.py` (SQLite in a temporary directory). It seeds a fresh
database through the services and the event log, as the product would have written it:

- 1,000 missions (one in ten planned by the local planner);
- one mission with a run of a 30-task workflow, executed by the engine (with its report), and
  5,000 `step.log` events of that run, appended in batches of 100 as the engine batches them.

Then it serves the app in-process (httpx2 ASGITransport, no network) and times ~100 requests of
`GET /missions` and of `GET /missions/{id}` after a warm-up. Prints one JSON object with
p50/p95 in milliseconds. Target: p95 <= 100 ms for both pages.
"""

import asyncio
import json
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2

from missionctl.agents.registry import AgentRegistry
from missionctl.app import create_app
from missionctl.engine.heap import freeze_startup_heap
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.eventlog import NewEvent, append
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import sign_in_links
from missionctl.services.usecases.reports import write_run_report
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings

# The in-process client logs every request at INFO; the figures are the output here.
logging.getLogger("httpx2").setLevel(logging.WARNING)

MISSIONS = 1000
TASKS = 30
LOG_EVENTS = 5000
LOG_BATCH = 100
REQUESTS = 100
WARM_UP = 5
ACTOR = "user:bench"
GOALS = (
    "Build a URL shortener with click analytics and custom aliases",
    "Create a Python library for rate limiting with token buckets and Redis backing",
    "Train and deploy a churn prediction model behind an HTTP API",
    "Build a Slack bot that summarizes incident channels and drafts a postmortem",
)


def _workflow(mission_title: str) -> WorkflowSpec:
    """30 tasks in six layers of five, each depending on two tasks of the layer before."""
    steps: list[dict[str, Any]] = []
    for n in range(TASKS):
        layer, index = divmod(n, 5)
        deps = [f"task-{(layer - 1) * 5 + (index + k) % 5:02d}" for k in (0, 1)] if layer else []
        steps.append(
            {
                "id": f"task-{n:02d}",
                "agent": "builtin:noop",
                "depends_on": deps,
                "inputs": {"title": f"{mission_title}: task {n + 1}", "role": "backend"},
            }
        )
    return WorkflowSpec.model_validate({"name": f"bench-{uuid.uuid4().hex[:8]}", "steps": steps})


async def _seed(ctx: ServiceContext) -> uuid.UUID:
    started = time.perf_counter()
    for n in range(MISSIONS - 1):
        mission = await mission_service.create_mission(
            ctx, data=MissionCreate(goal=f"{GOALS[n % len(GOALS)]} (#{n})"), actor=ACTOR
        )
        if n % 10 == 0:
            await plan_service.plan_mission(
                ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner()
            )
    busy = await mission_service.create_mission(
        ctx,
        data=MissionCreate(goal="Build a multi-tenant analytics cockpit with 30 tasks"),
        actor=ACTOR,
    )
    await plan_service.plan_mission(ctx, mission_id=busy.id, actor=ACTOR, planner=LocalPlanner())
    workflow = await create_workflow(
        ctx, spec=_workflow(busy.title), actor=ACTOR, mission_id=busy.id
    )
    run = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, mission_id=busy.id)
    engine = Engine(ctx, AgentRegistry(), config=EngineConfig(poll_s=0.01, concurrency=8))
    freeze_startup_heap()  # as the programs that run an engine do (once per process)
    stop = asyncio.Event()
    worker = asyncio.create_task(engine.run(stop))
    for _ in range(3000):  # the engine needs well under a second for 30 no-op tasks
        if (await read_run(ctx, run_id=run.id)).status != "running":
            break
        await asyncio.sleep(0.02)
    stop.set()
    await worker
    await write_run_report(ctx, run_id=run.id)
    for start in range(0, LOG_EVENTS, LOG_BATCH):
        async with ctx.write() as session:
            await append(
                session,
                [
                    NewEvent(
                        type="step.log",
                        actor="agent:bench",
                        mission_id=busy.id,
                        run_id=run.id,
                        step_id=f"task-{(start + i) % TASKS:02d}",
                        payload={
                            "attempt": 1,
                            "lines": [{"level": "info", "message": f"log line {start + i}"}],
                        },
                    )
                    for i in range(LOG_BATCH)
                ],
            )
    print(json.dumps({"seeded_s": round(time.perf_counter() - started, 1)}), flush=True)
    return busy.id


def _summary(samples: list[float]) -> dict[str, float | int]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "requests": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(max(samples), 1),
    }


async def _time(
    http: httpx2.AsyncClient, path: str, tasks: int | None = None
) -> dict[str, float | int]:
    for _ in range(WARM_UP):
        warm = await http.get(path)
        assert warm.status_code == 200
    if tasks is not None:  # the page shows the busy run, not a smaller plan
        assert warm.text.count('class="stepper__item ') == tasks
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await http.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:500]
    return {**_summary(samples), "bytes": len(response.content)}


async def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), engine=EngineSettings(embedded=False))
        async with open_context(settings) as ctx:
            mission_id = await _seed(ctx)
            # Pages are measured as a signed-in browser sees them (session cookie per request).
            link = await sign_in_links.ensure_first_admin(ctx)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as http:
                signed_in = await http.get(f"/sign-in?token={link}")
                assert signed_in.status_code == 303, "the one-time link did not sign in"
                results = {
                    "database": "sqlite",
                    "missions": MISSIONS,
                    "busy_mission": {"tasks": TASKS, "log_events": LOG_EVENTS},
                    "missions_page": await _time(http, "/missions"),
                    "mission_page": await _time(http, f"/missions/{mission_id}", TASKS),
                    "target_p95_ms": 100,
                }
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
