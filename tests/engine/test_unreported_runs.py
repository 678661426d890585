"""A run whose engine died before writing its report gets one from another engine.

The engine that ends a run writes its report just after, in the background (``engine.hooks``);
killed in between, it left the run without one for good (found by ``bench/chaos.py``: two of
thirteen completed runs on SQLite after ten kills). An engine with the report hook now writes
the report of every run that ended more than a lease ago without one: at its first lease upkeep,
every 30 s, and when it stops. Here the first engine has no hook, which is what a killed one
leaves behind.
"""

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from missionctl.agents.registry import AgentRegistry
from missionctl.engine.hooks import write_report_when_run_ends
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.repositories import artifacts as artifact_repo
from missionctl.services import ServiceContext
from tests.engine.helpers import running_engine, start, step, wait_for_run

QUICK = EngineConfig(concurrency=4, lease_s=0.5, heartbeat_s=0.1, poll_s=0.05)


async def report_names(ctx: ServiceContext, run_id: uuid.UUID) -> list[str]:
    async with ctx.read() as session:
        rows = await artifact_repo.read_run_artifacts(session, run_id=run_id, kind="report")
    return sorted(row.name for row in rows)


@asynccontextmanager
async def reporting_engine(
    ctx: ServiceContext, hooked: list[uuid.UUID], config: EngineConfig = QUICK
) -> AsyncIterator[None]:
    """An engine with the report hook of the programs that run one; ``hooked`` collects runs."""

    async def hook(run_id: uuid.UUID) -> None:
        hooked.append(run_id)
        await write_report_when_run_ends(ctx, run_id)

    engine = Engine(ctx, AgentRegistry(), config=config, on_run_finished=hook)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def ended_unreported(ctx: ServiceContext, *, settle: bool = True) -> uuid.UUID:
    """A completed run with no report, as an engine killed after ending it leaves it.

    With ``settle`` it ended a lease ago: the sweep of a running engine takes it up.
    """
    run = await start(ctx, [step("a")])
    async with running_engine(ctx, QUICK):  # no hook: nothing writes the report
        await wait_for_run(ctx, run.id, {"completed"})
    assert await report_names(ctx, run.id) == []
    if settle:
        await asyncio.sleep(QUICK.lease_s)  # past the lease its own engine had to write it
    return run.id


async def test_a_running_engine_writes_the_report_a_dead_engine_left_unwritten(
    ctx: ServiceContext,
) -> None:
    run_id = await ended_unreported(ctx)
    hooked: list[uuid.UUID] = []

    async with reporting_engine(ctx, hooked):
        deadline = time.monotonic() + 10
        while not await report_names(ctx, run_id):
            assert time.monotonic() < deadline, "no engine wrote the missing report"
            await asyncio.sleep(0.05)

    assert await report_names(ctx, run_id) == ["report.json", "report.md"]
    assert hooked == [run_id]  # once: the stop's sweep found it reported


async def test_a_stopping_engine_writes_the_reports_still_missing(ctx: ServiceContext) -> None:
    run_id = await ended_unreported(ctx, settle=False)
    hooked: list[uuid.UUID] = []
    # A long lease: its sweeps while it runs leave the run to the engine that just ended it.
    async with reporting_engine(ctx, hooked, dataclasses.replace(QUICK, lease_s=30.0)):
        await asyncio.sleep(QUICK.heartbeat_s * 3)
        assert await report_names(ctx, run_id) == []

    assert hooked == [run_id]
    assert await report_names(ctx, run_id) == ["report.json", "report.md"]


async def test_a_reported_run_is_not_reported_again(ctx: ServiceContext) -> None:
    run = await start(ctx, [step("a")])
    hooked: list[uuid.UUID] = []
    # A run ended a lease ago with no report is the sweep's: on a loaded machine, writing the
    # report has taken longer than QUICK's half-second lease, and the sweep took it up too.
    config = dataclasses.replace(QUICK, lease_s=3.0)
    async with reporting_engine(ctx, hooked, config):
        await wait_for_run(ctx, run.id, {"completed"})
        deadline = time.monotonic() + 10
        while not await report_names(ctx, run.id):
            assert time.monotonic() < deadline, "the engine that ended the run wrote no report"
            await asyncio.sleep(0.05)
        await asyncio.sleep(config.lease_s + config.heartbeat_s * 2)

    assert hooked == [run.id]  # by the end it heard; no sweep took it up again
    assert await report_names(ctx, run.id) == ["report.json", "report.md"]
