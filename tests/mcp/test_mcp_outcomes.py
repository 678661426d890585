"""Through MCP, a run says what its tasks produced, as the API does: an offline run documents.

A viewer (the lowest role that reads runs) reads the run resource of a mission that the
server's embedded engine ran with the local planner and the builtin specialists.
"""

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from missionctl.domain.access import Role
from missionctl.domain.outcomes import BUILD_HINT
from missionctl.services import ServiceContext, open_context
from missionctl.settings import Settings
from tests.conftest import LiveServer
from tests.engine.helpers import wait_for_run
from tests.mcp.helpers import call, http_session, read_text, token_of

GOAL = "A chess engine in Rust with a UCI interface"


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on the test's database, with its embedded engine."""
    live = LiveServer(settings)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[ServiceContext]:
    async with open_context(settings, upgrade=False) as ctx:
        yield ctx


async def test_a_viewer_reads_that_an_offline_run_documented_and_built_nothing(
    server: LiveServer, svc: ServiceContext
) -> None:
    operator = await token_of(svc, "ola", Role.OPERATOR)
    viewer = await token_of(svc, "vic", Role.VIEWER)
    async with http_session(server.url, operator) as ola:
        mission = await call(ola, "create_mission", goal=GOAL)
        await call(ola, "plan_mission", mission_id=mission["id"])
        started = await call(ola, "start_run", mission_id=mission["id"])
    assert "headline" in started and "outcomes" in started
    ended = await wait_for_run(svc, uuid.UUID(started["id"]), within_s=60)
    assert ended.status == "completed"

    async with http_session(server.url, viewer) as vic:
        run = json.loads(await read_text(vic, f"missionctl://runs/{started['id']}"))
    tasks = len(run["steps"])
    assert run["headline"] == f"{tasks} tasks documented, 0 built: {BUILD_HINT}"
    assert run["outcomes"] == {"documented": tasks}
    assert {s["outcome"] for s in run["steps"]} == {"documented"}
