"""A full disk: writes answer 503 naming it, /healthz says so, and the emergency stop still stops.

The data directory (and its SQLite database) live on a small filesystem the test mounts.
A run's command step is running under an engine of its own context (as a worker process
would be, sharing the data directory) when the filesystem is filled to the last byte. Then:
a write answers 503 naming the full disk; ``/healthz`` says the disk is full; pressing the
emergency stop answers 202, saying the stop holds though the database could not record it;
the step's program is killed. Once space returns, the engine records the stop (the run is
aborted, ``emergency.stopped`` says since when it held), and the record is intact: the
database passes SQLite's integrity check and the event log's hash chain verifies.
"""

import asyncio
import os
import sys
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text

from missionctl.agents.registry import AgentRegistry
from missionctl.app import create_app
from missionctl.engine.worker import Engine
from missionctl.services import open_context
from missionctl.settings import EngineSettings, Settings
from tests.engine.helpers import FAST, allow, host_pids, run_events, start, step, wait_for_run
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent
from tests.support.filesystems import fill, small_filesystem

pytestmark = pytest.mark.one_database  # the disk is the subject: SQLite on a small filesystem

PY = sys.executable


async def _eventually(check: "asyncio.Future[bool] | object", within_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("never happened")
        await asyncio.sleep(0.05)


async def test_a_full_disk_is_503_and_the_emergency_stop_still_stops_the_step(
    tmp_path: Path,
) -> None:
    with small_filesystem(tmp_path / "volume", size_mb=32) as volume:
        settings = Settings(
            home=volume / "home", engine=EngineSettings(embedded=False, poll_s=0.05)
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app), open_context(settings) as worker_ctx:
            ctx = app.state.ctx
            headers = await bearer_headers(ctx)
            http = httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app), base_url="http://t", headers=headers
            )
            await allow(ctx, PY)
            marker = f"full-disk-{os.getpid()}-{id(app)}"
            program = [PY, "-c", "import time; time.sleep(120)", marker]
            run = await start(ctx, [step("long", "command", inputs={"argv": program})])
            engine = Engine(worker_ctx, AgentRegistry(), config=FAST)
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            try:
                await _eventually(lambda: bool(host_pids(marker)))
                filler = fill(volume)

                refused = await http.post("/api/v1/missions", json={"goal": "A kiln log"})
                assert refused.status_code == 503, refused.text
                assert refused.headers["retry-after"]
                error = refused.json()["error"]
                assert error["code"] == "database_unavailable" and "full" in error["message"]

                health = await http.get("/healthz")
                assert health.status_code == 200, health.text  # reads still served
                said = health.json()
                assert said["status"] == "degraded" and said["disk"]["status"] == "full"
                assert said["database"]["status"] == "degraded"
                assert {v["name"]: v["status"] for v in said["disk"]["volumes"]} == {
                    "data directory": "full",
                    "database": "full",
                }

                pressed = await http.post("/api/v1/emergency-stop", json={"reason": "disk full"})
                assert pressed.status_code == 202, pressed.text
                controls = pressed.json()["controls"]
                assert controls["emergency_stop"] is True and controls["recorded"] is False
                assert "every engine that shares this data directory" in controls["note"]
                # The engine of the other context reads the stop file and kills the program.
                await _eventually(lambda: not host_pids(marker))
                await _eventually(lambda: engine.inflight == 0)
                shown = (await http.get("/api/v1/controls")).json()
                assert (shown["emergency_stop"], shown["recorded"]) == (True, False)

                filler.unlink()
                aborted = await wait_for_run(ctx, run.id, within_s=20)
            finally:
                stop.set()
                await running
                await http.aclose()
            assert aborted.status == "aborted"
            assert [s.status for s in aborted.steps] == ["canceled"]
            shown = await _fresh_controls(app, headers)
            assert (shown["emergency_stop"], shown["recorded"]) == (True, True)
            stopped = [e for e in await run_events(ctx, run.id) if e.type == "step.canceled"]
            assert stopped, "the step's cancel is in the log"
            async with ctx.read() as session:
                integrity = (await session.execute(text("PRAGMA integrity_check"))).scalar()
            assert integrity == "ok"
            await assert_consistent(ctx)  # the hash chain verifies, nothing half-written
            async with ctx.read() as session:
                held = (
                    await session.execute(
                        text("SELECT payload FROM events WHERE type = 'emergency.stopped'")
                    )
                ).scalar()
            assert held is not None and "held_since" in str(held)


async def _fresh_controls(app: object, headers: dict[str, str]) -> dict[str, object]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://t",
        headers=headers,
    ) as http:
        answer = await http.get("/api/v1/controls")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]
