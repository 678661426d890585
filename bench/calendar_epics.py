"""The calendar over 100,000 runs in six weeks, and an epic's roll-up of 200 missions.

Run: `.venv/bin/python bench/calendar_epics.py` (SQLite in a temporary directory; PostgreSQL
too when MISSIONCTL_BENCH_POSTGRES_URL names a server, see bench/_databases.py). Each database
gets, through the services: 20 workflows, 20 schedules of them (cron in five time zones, one
in five paused), 200 missions planned by the local planner and put in one epic, 49 more
epics of four missions' worth of nothing; then 100,000 runs inserted in bulk over the six
weeks of the month view (one every 36 seconds, seven statuses as skewed as a live server's,
one in two for a mission), each with its step run, and the tables analysed.

Then it serves the app in-process (httpx2 ASGITransport, no engine) as a viewer's API token
and times, after a warm-up, the median and p95 in milliseconds of:

- `calendar_month`: `GET /api/v1/calendar?date=…&tz=Asia/Kathmandu` (a +5:45 zone: every
  quarter-hour bucket counts), all 100,000 runs and every schedule's firings in view;
- `calendar_week`: the same for the week view;
- `epic_rollup`: `GET /api/v1/epics/{id}` for the epic of 200 missions (its tasks as the
  board reads them, risks, approvals);
- `epics_list`: `GET /api/v1/epics` (50 epics, their figures in one query);
- `runs_first_page`: `GET /api/v1/runs?limit=50`, as a yardstick of the same server and
  database: each figure above is also given as a ratio to it.
"""

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2

from _databases import backends
from missionctl.app import create_app
from missionctl.db.models import Run, StepRun
from missionctl.domain.access import Role
from missionctl.domain.ids import new_id
from missionctl.planning import LocalPlanner
from missionctl.schemas.epics import EpicCreate, EpicMissions
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.schedules import ScheduleCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases import identity
from missionctl.services.usecases.epics import add_missions, create_epic
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission
from missionctl.services.usecases.schedules import create_schedule
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import EngineSettings, Settings
from runs_list import STATUSES, _settle, _summary

logging.getLogger("httpx2").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)

RUNS = 100_000
WORKFLOWS = 20
MISSIONS = 200
OTHER_EPICS = 49
BATCH = 5_000
REQUESTS = 30
WARM_UP = 3
ACTOR = "user:bench"
ANCHOR = date(2030, 5, 15)
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Adelaide")
CRONS = ("0 9 * * MON-FRI", "*/30 * * * *", "15 2 * * *", "0 */4 * * *", "45 18 * * SUN")
SPACING = timedelta(seconds=36)


async def _seed(ctx: ServiceContext) -> uuid.UUID:
    """Everything but the runs; the id of the epic of ``MISSIONS`` missions."""
    workflows = []
    for n in range(WORKFLOWS):
        spec = WorkflowSpec.model_validate(
            {"name": f"wf-{n:02d}", "steps": [{"id": "only", "agent": "builtin:noop"}]}
        )
        workflows.append((await create_workflow(ctx, spec=spec, actor=ACTOR)).id)
        schedule = ScheduleCreate(
            name=f"every-{n:02d}",
            cron=CRONS[n % len(CRONS)],
            timezone=ZONES[n % len(ZONES)],
            workflow_id=workflows[-1],
            paused=n % 5 == 4,
        )
        await create_schedule(ctx, data=schedule, actor=ACTOR)
    missions = []
    for n in range(MISSIONS):
        goal = f"A booking tool for studio {n} with waitlists and reminders"
        mission = await create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)
        await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
        missions.append(mission.id)
    epic = await create_epic(ctx, data=EpicCreate(name="Studios", owner="bench"), actor=ACTOR)
    for first in range(0, MISSIONS, 100):
        batch = EpicMissions(mission_ids=missions[first : first + 100])
        await add_missions(ctx, epic_id=epic.id, data=batch, actor=ACTOR)
    for n in range(OTHER_EPICS):
        await create_epic(ctx, data=EpicCreate(name=f"Epic {n}", owner="bench"), actor=ACTOR)
    await _seed_runs(ctx, workflows, missions)
    return epic.id


async def _seed_runs(
    ctx: ServiceContext, workflows: list[uuid.UUID], missions: list[uuid.UUID]
) -> None:
    start = datetime.combine(ANCHOR.replace(day=1), datetime.min.time(), UTC) - timedelta(days=3)
    for first in range(0, RUNS, BATCH):
        runs, steps = [], []
        for n in range(first, first + BATCH):
            run_id, at = new_id(), start + SPACING * n
            status = STATUSES[n % len(STATUSES)]
            runs.append(_run(run_id, at, status, workflows[n % WORKFLOWS],
                             missions[n % MISSIONS] if n % 2 else None))  # fmt: skip
            steps.append(_step(run_id, at, status))
        async with ctx.write() as session:
            await session.execute(Run.__table__.insert(), runs)
            await session.execute(StepRun.__table__.insert(), steps)


def _run(
    run_id: uuid.UUID, at: datetime, status: str, workflow: uuid.UUID, mission: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow_id": workflow,
        "mission_id": mission,
        "trigger": "cron",
        "status": status,
        "inputs": {},
        "budget_micros": None,
        "spent_micros": 0,
        "reserved_micros": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "error": None,
        "rerun_of": None,
        "created_by": ACTOR,
        "created_at": at,
        "started_at": at,
        "ended_at": at + timedelta(seconds=30),
        "updated_at": at,
    }


def _step(run_id: uuid.UUID, at: datetime, status: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "run_id": run_id,
        "step_id": "only",
        "attempt": 1,
        "status": "succeeded" if status == "completed" else "failed",
        "agent": "builtin:noop",
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


async def _time(http: httpx2.AsyncClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
    for _ in range(WARM_UP):
        warm = await http.get(path, params=params)
        assert warm.status_code == 200, warm.text[:500]
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await http.get(path, params=params)
        samples.append((time.perf_counter() - started) * 1000)
    return {**_summary(samples), "bytes": len(response.content), "answer": response.json()}


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    """Seed ``settings``' database and time the calendar and the epics on it."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    async with open_context(quiet) as ctx:
        await identity.create_user(
            ctx, data=UserCreate(name="bench", role=Role.VIEWER), actor="system"
        )
        started = time.perf_counter()
        epic_id = await _seed(ctx)
        seeded_s = time.perf_counter() - started
        _, token = await identity.create_token(ctx, user_name="bench", name="bench", actor="system")
    _settle(quiet)
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            return await _figures(http, name, epic_id, seeded_s)


async def _figures(
    http: httpx2.AsyncClient, name: str, epic_id: uuid.UUID, seeded_s: float
) -> dict[str, Any]:
    where = {"date": ANCHOR.isoformat(), "tz": "Asia/Kathmandu"}
    floor = await _time(http, "/api/v1/runs", {"limit": 50})
    month = await _time(http, "/api/v1/calendar", where)
    week = await _time(http, "/api/v1/calendar", {**where, "view": "week"})
    rollup = await _time(http, f"/api/v1/epics/{epic_id}", {})
    listed = await _time(http, "/api/v1/epics", {})
    counted = sum(day["run_count"] for day in month.pop("answer")["days"])
    firings = sum(len(day["firings"]) for day in week.pop("answer")["days"])
    tasks = rollup.pop("answer")["tasks"]["total"]
    epics = len(listed.pop("answer"))
    floor.pop("answer")
    ratio = {
        key: round(figure["p50_ms"] / floor["p50_ms"], 1)
        for key, figure in (("calendar_month", month), ("calendar_week", week),
                            ("epic_rollup", rollup), ("epics_list", listed))
    }  # fmt: skip
    return {
        "database": name,
        "runs": RUNS,
        "seeded_s": round(seeded_s, 1),
        "calendar_month": {**month, "runs_counted": counted},
        "calendar_week": {**week, "firings": firings},
        "epic_rollup": {**rollup, "missions": MISSIONS, "tasks": tasks},
        "epics_list": {**listed, "epics": epics},
        "runs_first_page": floor,
        "p50_over_runs_first_page": ratio,
    }


async def main() -> None:
    results = [await measure(name, settings) for name, settings in backends()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
