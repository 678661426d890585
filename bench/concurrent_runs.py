"""Mission runs started together, and a burst of run requests, on each database.

Run: `.venv/bin/python bench/concurrent_runs.py` (SQLite in a temporary directory; PostgreSQL too
when MISSIONCTL_BENCH_POSTGRES_URL names a server, in a schema of its own dropped afterwards, see
bench/_databases.py). Each database gets, per repeat, 110 missions planned by the local planner
(the goal below: a REST API of about a dozen tasks), then:

- `runs_s`: 10 of them are run at once (`services.usecases.plans.run_mission`, as `POST
  /missions/{id}/runs` does) beside an engine in the same process with the default engine
  settings (`serve`'s embedded engine); the time from the first start until the tenth run's end
  is committed (its `run.completed` event, published after commit).
- `accept_s`: the real app is served by uvicorn in a process of its own on a loopback port (the
  default settings: its embedded engine starts running each run as it is accepted), and 100
  `POST /api/v1/missions/{id}/runs` requests, one per mission, are sent at once over 100
  connections; the time until the last `202 Accepted` arrives.
- `accept_api_only_s`: the same burst, to a server whose engine is off
  (`MISSIONCTL_ENGINE_EMBEDDED=false`, as when `worker` processes run the engine): what
  accepting costs by itself, without the embedded engine running the accepted runs meanwhile.

Each figure comes with the CPU seconds spent meanwhile by the process doing the work (the bench
for `runs_cpu_s`, the server for `accept_cpu_s`): on a busy machine the wall times say as much
about the other programs as about this one. It prints, as JSON, the machine's load average,
every sample, the median of each figure per database and, with PostgreSQL, the ratio of
PostgreSQL's median to SQLite's. BENCH_REPEATS sets the number of repeats (default 3);
BENCH_ONLY=sqlite or postgresql measures one database.
"""

import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2

from _databases import backends
from missionctl.domain.access import Role
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.planning import LocalPlanner
from missionctl.schemas.identity import UserCreate
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases import identity
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from missionctl.settings import EngineSettings, Settings

logging.getLogger("httpx2").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
RUNS_TOGETHER = 10
REQUESTS = 100
GOAL = "Build a REST API for a veterinary clinic: appointments, patients, invoices"
ACTOR = "user:bench"
# Wall seconds, and the CPU seconds the process doing the work spent meanwhile (the figure that
# does not depend on what else the machine runs).
FIGURES = (
    "runs_s",
    "runs_cpu_s",
    "accept_s",
    "accept_cpu_s",
    "accept_api_only_s",
    "accept_api_only_cpu_s",
)
ENDED = ("run.completed", "run.failed", "run.aborted", "run.canceled")


async def _planned_missions(ctx: ServiceContext, count: int) -> list[uuid.UUID]:
    """``count`` new missions, each planned once by the local planner."""
    planner = LocalPlanner()
    missions = []
    for _ in range(count):
        mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
        await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=planner)
        missions.append(mission.id)
    return missions


async def _runs_together(ctx: ServiceContext, missions: list[uuid.UUID]) -> tuple[float, float]:
    """(Seconds from starting each mission's run at once until all ended, CPU seconds spent)."""
    stop = asyncio.Event()
    async with open_runtime(ctx.settings) as runtime, ctx.broadcaster.subscribe() as events:
        engine = Engine(ctx, runtime.agents, config=EngineConfig.from_settings(EngineSettings()))
        worker = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(0.2)  # the engine is idle and waiting
        started, cpu = time.perf_counter(), time.process_time()
        runs = await asyncio.gather(
            *(run_mission(ctx, mission_id=m, actor=ACTOR, trigger="api") for m in missions)
        )
        waiting = {run.id for run in runs}
        failures = []
        while waiting:
            event = await events.get()
            if event.type == "step.failed":
                failures.append(event.payload)
            if event.type in ENDED:
                assert event.type == "run.completed", failures
                waiting.discard(event.run_id)  # type: ignore[arg-type]
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        stop.set()
        await worker
    return elapsed, cpu


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(settings: Settings, port: int, *, embedded: bool) -> subprocess.Popen[bytes]:
    """The app under uvicorn in a process of its own, on ``settings``' home and database.

    With ``embedded`` the app runs its engine, as ``serve`` does by default; without, it only
    serves (the engine would run in ``worker`` processes of their own).
    """
    env = dict(os.environ)
    env.update(
        MISSIONCTL_HOME=str(settings.home),
        MISSIONCTL_DATABASE_URL=settings.database_url,
        MISSIONCTL_LOG_LEVEL="WARNING",
        MISSIONCTL_ENGINE_EMBEDDED=str(embedded).lower(),
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    command = [sys.executable, "-m", "uvicorn", "missionctl.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(command, env=env)


async def _until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx2.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"{url}/healthz")).status_code < 500:
                    return
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.1)


def _cpu_s(pid: int) -> float:
    """CPU seconds process ``pid`` (every thread of it) has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _accept_burst(url: str, token: str, missions: list[uuid.UUID]) -> float:
    """Seconds until every one of the simultaneous run requests was accepted (202)."""
    limits = httpx2.Limits(max_connections=len(missions), max_keepalive_connections=len(missions))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=120
    ) as http:
        started = time.perf_counter()
        answers = await asyncio.gather(*(http.post(f"/api/v1/missions/{m}/runs") for m in missions))
        elapsed = time.perf_counter() - started
    refused = [a for a in answers if a.status_code != 202]
    assert not refused, refused[0].text[:500]
    return elapsed


async def _until_idle(url: str, token: str) -> None:
    """Wait until the server's engine has ended every run (the next burst starts on a quiet app)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        while True:
            busy = 0
            for status in ("pending", "running"):
                page = await http.get("/api/v1/runs", params={"status": status, "limit": 1})
                busy += page.json()["total"]
            if not busy:
                return
            await asyncio.sleep(0.5)


async def _token(ctx: ServiceContext) -> str:
    await identity.create_user(
        ctx, data=UserCreate(name="bench", role=Role.OPERATOR), actor="system"
    )
    _, token = await identity.create_token(ctx, user_name="bench", name="bench", actor="system")
    return token


async def _bursts(
    settings: Settings, token: str, bursts: list[list[uuid.UUID]], *, embedded: bool
) -> list[tuple[float, float]]:
    """(Wall seconds, server CPU seconds) of each burst, sent to a server of its own."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(settings, port, embedded=embedded)
    figures = []
    try:
        await _until_up(url)
        await _until_idle(url, token)  # the token's first use is recorded before the bursts
        for missions in bursts:
            cpu = _cpu_s(server.pid)
            wall = await _accept_burst(url, token, missions)
            figures.append((wall, _cpu_s(server.pid) - cpu))
            if embedded:
                await _until_idle(url, token)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return figures


async def measure(name: str, settings: Settings) -> dict[str, Any]:
    """``REPEATS`` samples of each figure on ``settings``' database."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    samples: dict[str, list[float]] = {key: [] for key in FIGURES}
    async with open_context(quiet) as ctx:
        token = await _token(ctx)
        for _ in range(REPEATS):
            missions = await _planned_missions(ctx, RUNS_TOGETHER)
            runs_s, runs_cpu_s = await _runs_together(ctx, missions)
            samples["runs_s"].append(runs_s)
            samples["runs_cpu_s"].append(runs_cpu_s)
        bursts = {
            embedded: [await _planned_missions(ctx, REQUESTS) for _ in range(REPEATS)]
            for embedded in (True, False)
        }
    for embedded, figure in ((True, "accept"), (False, "accept_api_only")):
        for wall, cpu in await _bursts(settings, token, bursts[embedded], embedded=embedded):
            samples[f"{figure}_s"].append(wall)
            samples[f"{figure}_cpu_s"].append(cpu)
    result: dict[str, Any] = {
        "database": name,
        "runs_together": RUNS_TOGETHER,
        "requests": REQUESTS,
    }
    for key, values in samples.items():
        result[key] = [round(v, 3) for v in values]
        result[f"{key}_median"] = round(statistics.median(values), 3)
    return result


async def main() -> None:
    only = os.environ.get("BENCH_ONLY")
    results = [
        await measure(name, settings)
        for name, settings in backends()
        if only is None or name == only
    ]
    summary: dict[str, Any] = {"load_average": os.getloadavg(), "results": results}
    if len(results) == 2:
        sqlite, postgresql = results
        for figure in FIGURES:
            ratio = postgresql[f"{figure}_median"] / sqlite[f"{figure}_median"]
            summary[f"{figure}_pg_over_sqlite"] = round(ratio, 2)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
