"""A ``missionctl worker`` process asked to stop from the control plane drains and exits 0."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from missionctl.domain.workers import WorkerCommand, WorkerStatus
from missionctl.schemas.health import WorkerRead
from missionctl.services import ServiceContext
from missionctl.services.usecases import workers

MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))


async def _registered(ctx: ServiceContext, pid: int, within_s: float = 30.0) -> WorkerRead:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        mine = [w for w in await workers.list_workers(ctx) if w.pid == pid]
        if mine:
            return mine[0]
        await asyncio.sleep(0.1)
    raise AssertionError("the worker process never registered")


async def test_a_worker_process_asked_to_stop_exits_0_once_drained(
    ctx: ServiceContext, database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_")}
    env |= {
        "MISSIONCTL_HOME": str(tmp_path / "worker-home"),
        "MISSIONCTL_DATABASE_URL": database_url,
        "MISSIONCTL_ENGINE_HEARTBEAT_S": "0.5",  # a heartbeat every second: obeyed quickly
        "COLUMNS": "300",
    }
    process = await asyncio.create_subprocess_exec(
        MISSIONCTL, "worker", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        worker = await _registered(ctx, process.pid)
        assert worker.status is WorkerStatus.online and worker.kind == "worker"
        await workers.command_worker(
            ctx, worker_id=worker.id, command=WorkerCommand.stop, actor="user:ops"
        )
        said, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = said.decode()
    assert process.returncode == 0, output
    assert "drained and stopped, as asked by the control plane" in output
    gone = await workers.read_worker(ctx, worker_id=worker.id)
    assert gone.status is WorkerStatus.stopped
