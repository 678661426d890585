"""Engine test helpers: build workflows, run an engine in the background, wait for runs."""

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from missionctl.agents.registry import AgentRegistry
from missionctl.db.models import Event
from missionctl.engine.heap import freeze_startup_heap
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.eventlog import EventRecord
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.workflows import create_workflow

FAST = EngineConfig(concurrency=8, lease_s=2.0, heartbeat_s=0.2, poll_s=0.05)
FINISHED = {"completed", "failed", "canceled", "aborted"}


def step(step_id: str, agent: str = "builtin:noop", *deps: str, **fields: Any) -> dict[str, Any]:
    """A step definition."""
    return {"id": step_id, "agent": agent, "depends_on": list(deps), **fields}


async def start(ctx: ServiceContext, steps: list[dict[str, Any]], **workflow: Any) -> RunRead:
    """Save a workflow made of ``steps`` and start a run of it."""
    budget = workflow.pop("run_budget_micros", None)
    inputs = workflow.pop("run_inputs", None)
    spec = WorkflowSpec.model_validate(
        {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": steps, **workflow}
    )
    saved = await create_workflow(ctx, spec=spec, actor="user:test")
    return await start_run(
        ctx, workflow_id=saved.id, actor="user:test", budget_micros=budget, inputs=inputs
    )


async def allow(
    ctx: ServiceContext,
    *programs: str,
    tier: str = "read",
    network: bool = False,
    env: tuple[str, ...] = (),
) -> None:
    """Put ``programs`` on the command agent's allow-list, as an admin would.

    Command steps wait for an approver unless their program is listed: tests of what a program
    does list it first, at ``read`` so that a read step runs it without one.
    """
    entry = AllowedProgram.model_validate({"tier": tier, "network": network, "env": list(env)})
    change = AgentUpdate(allowed_programs=dict.fromkeys(programs, entry))
    await update_agent(ctx, name="command", data=change, actor="user:admin")


@asynccontextmanager
async def running_engine(
    ctx: ServiceContext,
    config: EngineConfig = FAST,
    worker_id: str | None = None,
    agents: AgentRegistry | None = None,
) -> AsyncIterator[Engine]:
    """An engine working in the background for the duration of the block.

    Like the programs that run an engine, it first freezes the start-up heap (``engine.heap``).
    """
    freeze_startup_heap()
    engine = Engine(ctx, agents or AgentRegistry(), config=config, worker_id=worker_id)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        yield engine
    finally:
        stop.set()
        await task
    assert engine.tick_failures == 0, "the engine's tick raised; see the log above"


async def wait_for_run(
    ctx: ServiceContext, run_id: uuid.UUID, statuses: set[str] = FINISHED, within_s: float = 15.0
) -> RunRead:
    """Poll until the run's status is one of ``statuses``."""
    deadline = time.monotonic() + within_s
    while True:
        run = await read_run(ctx, run_id=run_id)
        if run.status in statuses:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(
                f"run stayed {run.status}: {[(s.step_id, s.status) for s in run.steps]}"
            )
        await asyncio.sleep(0.02)


async def wait_for_step(
    ctx: ServiceContext, run_id: uuid.UUID, step_id: str, status: str, within_s: float = 15.0
) -> None:
    """Poll until a step has ``status``."""
    deadline = time.monotonic() + within_s
    while True:
        run = await read_run(ctx, run_id=run_id)
        if any(s.step_id == step_id and s.status == status for s in run.steps):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{step_id} never became {status}")
        await asyncio.sleep(0.02)


async def run_events(ctx: ServiceContext, run_id: uuid.UUID) -> list[EventRecord]:
    """The run's events in order."""
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event).where(Event.run_id == run_id).order_by(Event.seq)
        )
        return [EventRecord.from_row(row) for row in rows.all()]


def host_pids(marker: str) -> list[int]:
    """Host pids of the programs whose command line holds ``marker``.

    A sandboxed program's own pid is another inside its pid namespace, so tests find it by its
    command line; bubblewrap's processes, whose command lines hold the program's, are left out.
    """
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                argv = cmdline.read().split(b"\0")
        except OSError:
            continue  # gone since the listing
        if marker.encode() in b" ".join(argv) and not argv[0].endswith(b"bwrap"):
            pids.append(int(entry))
    return pids


async def poll_json(api: Any, url: str, done: Callable[[Any], bool], within_s: float = 30) -> Any:
    """GET ``url`` on ``api`` (an HTTP client) until ``done`` holds of its JSON; that JSON."""
    deadline = time.monotonic() + within_s
    while True:
        body = (await api.get(url)).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, json.dumps(body)[:4000]
        await asyncio.sleep(0.02)
