"""``missionctl memory search``: both back-ends, a viewer remotely, hostile queries refused."""

import time
import uuid

import pytest

from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from tests.cli import test_cli_both_ways
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, text

world = test_cli_both_ways.world  # the module-scoped live server and homes


def _finished(world: World, goal: str) -> str:
    """A mission planned locally and run to its end by the live server's engine; its id."""

    async def start(ctx: object) -> uuid.UUID:
        mission = await mission_service.create_mission(
            ctx,
            data=MissionCreate(goal=goal),
            actor="user:test",  # type: ignore[arg-type]
        )
        await plan_service.plan_mission(
            ctx,
            mission_id=mission.id,
            actor="user:test",
            planner=LocalPlanner(),  # type: ignore[arg-type]
        )
        await plan_service.run_mission(ctx, mission_id=mission.id, actor="user:test")  # type: ignore[arg-type]
        return mission.id

    mission_id = world.service(start)
    deadline = time.monotonic() + 60
    while True:
        read = world.service(lambda ctx: mission_service.read_mission(ctx, mission_id=mission_id))
        if read.status in ("completed", "failed"):
            return str(mission_id)
        assert time.monotonic() < deadline, read.status
        time.sleep(0.1)


@pytest.mark.parametrize("mode", MODES)
def test_memory_search_finds_a_finished_mission_and_refuses_hostile_queries(
    world: World, mode: str
) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    mission_id = _finished(world, f"Build a web shop for {marker} lamps with a shopping cart")

    page = as_json(world.cli(mode, "memory", "search", marker, "--json"))
    shown = text(ok(world.cli(mode, "memory", "search", marker)))
    lessons = as_json(
        world.cli(mode, "memory", "search", "mission cost", "--kind", "lesson", "--json")
    )

    assert [item["mission_id"] for item in page["items"]] == [mission_id]
    assert page["items"][0]["outcome"] in ("completed", "failed") and page["items"][0]["lessons"]
    assert marker in shown and "summary:" in shown and "mode: " in shown
    assert all(h["kind"] == "lesson" for item in lessons["items"] for h in item["hits"])
    for hostile in ('"', "*", ":", "x" * 10_000):  # no word, or far too long: refused
        refused = world.cli(mode, "memory", "search", hostile)
        assert refused.exit_code == 2, (hostile[:20], refused.output)
        assert "q" in text(refused) and "Traceback" not in refused.output
    for plain in ("NEAR(", f'{marker} AND "lamps', "lamp* OR"):  # query syntax is words
        searched = as_json(world.cli(mode, "memory", "search", plain, "--json"))
        assert isinstance(searched["items"], list)


def test_a_viewer_searches_memory_remotely(world: World) -> None:
    found = world.cli("remote", "memory", "search", "shop", "--json", token=world.viewer)
    assert found.exit_code == 0, found.output
    assert "items" in as_json(found)


@pytest.mark.parametrize("mode", MODES)
def test_memory_similar_lists_finished_missions_like_a_new_one(world: World, mode: str) -> None:
    marker = f"zq{uuid.uuid4().hex[:10]}"
    past = _finished(world, f"Build a web shop for {marker} lamps with a shopping cart")
    new = as_json(
        world.cli(mode, "mission", "create", f"Build a web shop for {marker} vases", "--json")
    )["id"]

    found = as_json(world.cli(mode, "memory", "similar", new, "--json"))
    shown = text(ok(world.cli(mode, "memory", "similar", new)))

    assert past in [m["mission_id"] for m in found]
    assert "lesson: The mission ended" in shown
    ghost = world.cli(mode, "memory", "similar", str(uuid.uuid4()))
    assert ghost.exit_code == 1 and "no mission with id" in text(ghost)
