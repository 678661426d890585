"""The AI execution pack of a mission planned by the local planner, on both databases."""

import io
import json
import re
import uuid
import zipfile

import pytest

from missionctl.errors import Conflict, NotFound
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.packs import build_pack, pack_zip
from missionctl.services.usecases.plans import plan_mission, read_plan

GOAL = "Build a URL shortener with click analytics and custom aliases"
CONSTRAINTS = ["Python 3.11", "Do not change the public API of the billing module"]
ACTOR = "user:test"


async def planned(ctx: ServiceContext, data: MissionCreate) -> MissionRead:
    """A mission created and planned by the local planner."""
    mission = await create_mission(ctx, data=data, actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    return mission


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


async def test_the_pack_holds_agents_md_one_file_per_task_and_the_plan(ctx: ServiceContext) -> None:
    data = MissionCreate(
        goal=GOAL,
        constraints=CONSTRAINTS,
        repo_context="A FastAPI monolith; tests run with pytest.",
    )
    mission = await planned(ctx, data)
    plan = await read_plan(ctx, mission_id=mission.id)

    pack = await build_pack(ctx, mission_id=mission.id)
    files = unzip(pack_zip(pack))

    assert files == {f.path: f.content for f in pack.files}  # the folder is the zip
    assert list(files) == sorted(files)
    agents = files["AGENTS.md"].decode()
    assert GOAL in agents and all(c in agents for c in CONSTRAINTS)
    assert "- tests run with pytest." in agents.split("## How to run and test")[1]
    assert "billing module" in agents.split("## What not to touch")[1]
    for requirement in plan.requirements:
        assert f"**{requirement.key}** ({requirement.priority})" in agents
    task_files = sorted(name for name in files if name.startswith("tasks/"))
    assert len(task_files) == len(plan.tasks)
    requirements = {r.key: r.text for r in plan.requirements}
    by_key = {t.key: t for t in plan.tasks}
    position: dict[str, int] = {}
    for number, name in enumerate(task_files, 1):
        key = re.fullmatch(r"tasks/(\d\d)-([a-z0-9-]+)\.md", name)
        assert key and int(key[1]) == number, name
        task = by_key[key[2]]
        position[task.key] = number
        text = files[name].decode()
        assert f"(tasks/{key[1]}-{key[2]}.md)" in agents  # the order links every task
        assert task.title in text and f"role **{task.role}**" in text
        assert all(f"- [ ] {a}" in text for a in task.acceptance)
        assert all(f"**{k}** " in text and requirements[k] in text for k in task.traces)
        assert all(position[d] < number for d in task.depends_on)  # dependencies come first
    assert json.loads(files["plan.json"]) == plan.model_dump(mode="json")


async def test_the_zip_is_byte_identical_across_builds(ctx: ServiceContext) -> None:
    mission = await planned(ctx, MissionCreate(goal=GOAL))
    first = pack_zip(await build_pack(ctx, mission_id=mission.id))
    again = pack_zip(await build_pack(ctx, mission_id=mission.id, plan_version=1))
    assert first == again
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


async def test_a_plan_version_can_be_chosen_and_the_newest_is_the_default(
    ctx: ServiceContext,
) -> None:
    mission = await planned(ctx, MissionCreate(goal=GOAL))
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    assert (await build_pack(ctx, mission_id=mission.id)).plan_version == 2
    older = await build_pack(ctx, mission_id=mission.id, plan_version=1)
    assert older.plan_version == 1 and older.zip_name.endswith("-plan-v1-pack.zip")


async def test_no_mission_no_plan_and_no_version_are_told_apart(ctx: ServiceContext) -> None:
    with pytest.raises(NotFound) as unknown:
        await build_pack(ctx, mission_id=uuid.uuid4())
    assert unknown.value.field == "mission_id"
    draft = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    with pytest.raises(Conflict, match="plan it first") as unplanned:
        await build_pack(ctx, mission_id=draft.id)
    assert unplanned.value.field == "mission_id"
    mission = await planned(ctx, MissionCreate(goal=GOAL))
    with pytest.raises(NotFound) as missing:
        await build_pack(ctx, mission_id=mission.id, plan_version=7)
    assert missing.value.field == "plan_version"
