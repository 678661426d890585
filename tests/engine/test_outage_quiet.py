"""An engine whose database is out logs the outage in a line, not a traceback per tick, and
goes on once it is back."""

import asyncio
import logging
from pathlib import Path

import pytest

from missionctl.agents.registry import AgentRegistry
from missionctl.engine.worker import Engine
from missionctl.services import ServiceContext
from tests.engine.helpers import FAST, start, wait_for_run
from tests.support.filesystems import broken_database

pytestmark = pytest.mark.one_database  # the outage is the subject, made on SQLite


async def test_an_outage_is_one_line_and_the_engine_carries_on_after_it(
    ctx: ServiceContext, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    engine = Engine(ctx, AgentRegistry(), config=FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    broken = broken_database(tmp_path)
    original = ctx.db
    try:
        await asyncio.sleep(0.3)
        with caplog.at_level(logging.WARNING, logger="missionctl.engine.worker"):
            object.__setattr__(ctx, "db", broken)
            await asyncio.sleep(1.5)  # about 30 ticks at 50 ms
            object.__setattr__(ctx, "db", original)
        run = await start(ctx, [{"id": "a", "agent": "builtin:noop"}])
        done = await wait_for_run(ctx, run.id)
    finally:
        object.__setattr__(ctx, "db", original)
        stop.set()
        await task
        await broken.dispose()
    said = [r for r in caplog.records if r.name == "missionctl.engine.worker"]
    # Every tick met the outage (checkpoints, lease upkeep): one line said so, no traceback.
    assert len(said) == 1 and not said[0].exc_info, [r.getMessage() for r in said]
    assert "cannot reach the database" in said[0].getMessage()
    assert done.status.value == "completed"
