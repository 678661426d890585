"""The MCP resources of a run the server's engine executed: its steps, artifacts and their text.

The live server runs its embedded engine here, so a mission's run ends with the artifacts its
builtin specialists wrote; they are read through ``/mcp`` and compared with the services'.
"""

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from missionctl.domain.access import Role
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.artifacts import read_artifact_content
from missionctl.settings import Settings
from tests.conftest import LiveServer
from tests.engine.helpers import wait_for_run
from tests.mcp.helpers import call, http_session, read_text, token_of

GOAL = "Build a URL shortener with click analytics and custom aliases"


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


async def test_a_finished_runs_steps_artifacts_and_their_text_are_resources(
    server: LiveServer, svc: ServiceContext
) -> None:
    token = await token_of(svc, "vic", Role.VIEWER)
    operator = await token_of(svc, "ola", Role.OPERATOR)
    async with http_session(server.url, operator) as ola:
        mission = await call(ola, "create_mission", goal=GOAL)
        await call(ola, "plan_mission", mission_id=mission["id"])
        run = await call(ola, "start_run", mission_id=mission["id"])
    ended = await wait_for_run(svc, uuid.UUID(run["id"]), within_s=60)
    assert ended.status == "completed"

    async with http_session(server.url, token) as vic:
        shown = json.loads(await read_text(vic, f"missionctl://runs/{run['id']}"))
        assert shown["status"] == "completed"
        assert {s["step_id"] for s in shown["steps"]} == {s.step_id for s in ended.steps}
        listed = json.loads(await read_text(vic, "missionctl://runs"))
        assert run["id"] in {item["id"] for item in listed["items"]}
        artifacts = json.loads(await read_text(vic, f"missionctl://runs/{run['id']}/artifacts"))
        markdown = [a for a in artifacts["artifacts"] if a["kind"] == "markdown"]
        assert markdown, artifacts
        one = markdown[0]
        described = json.loads(await read_text(vic, f"missionctl://artifacts/{one['id']}"))
        assert described == one
        text = await read_text(vic, f"missionctl://artifacts/{one['id']}/content")
        _, content = await read_artifact_content(svc, artifact_id=uuid.UUID(one["id"]))
        assert text == content.decode("utf-8") and text

        for uri, field in (
            ("missionctl://runs/not-a-uuid", "run_id"),
            (f"missionctl://artifacts/{uuid.uuid4()}", "artifact_id"),
            (f"missionctl://missions/{mission['id']}/pack/no-such-task", "task_key"),
        ):
            with pytest.raises(Exception, match=field):
                await vic.read_resource(uri)
