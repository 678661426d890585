"""A model's plan shows as it is written: ``plan.drafted`` events while the reply streams.

The scripted Chat Completions server on 127.0.0.1 streams the plan in small pieces with a pause
between them, through the real ``openai`` SDK; the events are read from the log as any reader
reads them.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.demo.chat_server import RecordedRequest, ScriptedChatServer
from missionctl.llm import OpenAICompatibleClient
from missionctl.planning import LLMPlanner
from missionctl.planning.drafts import PROSE_CHARS, TEXT_CHARS
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.dashboard import read_mission_view
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission
from tests.e2e.test_llm_mission import GOAL
from tests.e2e.test_llm_mission import plan_json as local_plan_json

MODEL = "drafting-model"
SECRET = "sk-proj-" + "Zx9Qw8Er7Ty6" * 4  # what a credential looks like: redacted on sight


def plan_json(*, cycle: bool = False) -> str:
    """The plan of GOAL, a task's title carrying a secret and a long description."""
    plan = json.loads(local_plan_json(cycle=cycle))
    plan["tasks"][1]["title"] = f"Wire the key {SECRET} into the client"
    plan["tasks"][2]["description"] = "A long description. " * 100
    return json.dumps(plan, indent=1)


@pytest.fixture
def chat() -> Iterator[ScriptedChatServer]:
    """Streams the first reply with a cycle (sent back by the plan rules), then a valid plan."""

    replies = [plan_json(cycle=True)]

    def script(request: RecordedRequest) -> str:
        return replies.pop() if replies else plan_json()

    with ScriptedChatServer(script, chunk_chars=160, chunk_delay_s=0.01) as server:
        yield server


@pytest.fixture
async def planner(chat: ScriptedChatServer) -> AsyncIterator[LLMPlanner]:
    client = OpenAICompatibleClient(
        base_url=chat.base_url, api_key=None, model=MODEL, timeout_s=10, max_retries=0
    )
    yield LLMPlanner(client)
    await client.aclose()


async def _events(ctx: ServiceContext, mission_id: uuid.UUID) -> list[Event]:
    async with ctx.read() as session:
        query = select(Event).where(Event.mission_id == mission_id).order_by(Event.seq)
        return list((await session.scalars(query)).all())


async def _drafted_while_planning(ctx: ServiceContext, mission_id: uuid.UUID) -> bool:
    """Whether a drafted task is in the log while the plan is not (it was shown as written)."""
    types = [event.type for event in await _events(ctx, mission_id)]
    drafted = [e.payload for e in await _events(ctx, mission_id) if e.type == "plan.drafted"]
    return "plan.created" not in types and any(p["kind"] == "task" for p in drafted)


async def test_phases_then_tasks_are_drafted_while_the_model_writes_and_a_repair_restarts(
    ctx: ServiceContext, chat: ScriptedChatServer, planner: LLMPlanner
) -> None:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor="user:test")
    planning = asyncio.create_task(
        plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=planner)
    )
    seen_early = False
    while not planning.done():
        seen_early = seen_early or await _drafted_while_planning(ctx, mission.id)
        await asyncio.sleep(0.02)
    plan = await planning

    assert chat.errors == []
    assert isinstance(plan, PlanRead) and len(chat.chat_requests) == 2
    assert all((r.body or {}).get("stream") for r in chat.chat_requests)
    assert seen_early, "a task was in the log before the plan was"
    events = await _events(ctx, mission.id)
    types = [e.type for e in events]
    drafts = [e.payload for e in events if e.type == "plan.drafted"]
    # Every draft comes after planning began and before the plan.
    first, last = types.index("plan.drafted"), len(types) - types[::-1].index("plan.drafted")
    assert types.index("mission.planning") < first
    assert last <= types.index("plan.created") < types.index("mission.planned")
    # The first reply (sent back for its cycle), a restart, then the reply that became the plan.
    restart = drafts.index({"kind": "restart", "attempt": 2})
    plan_shape = json.loads(plan_json())
    expected = [("phase", i) for i in range(len(plan_shape["phases"]))]
    expected += [("task", i) for i in range(len(plan_shape["tasks"]))]
    for attempt, part in ((1, drafts[:restart]), (2, drafts[restart + 1 :])):
        assert [(p["kind"], p["index"]) for p in part] == expected
        assert {p["attempt"] for p in part} == {attempt}
    final = drafts[restart + 1 :]
    assert [p["item"]["key"] for p in final if p["kind"] == "task"] == [t.key for t in plan.tasks]
    _assert_redacted_and_bounded(drafts)


def _assert_redacted_and_bounded(drafts: list[dict[str, Any]]) -> None:
    assert SECRET not in json.dumps(drafts)
    titled = [p["item"]["title"] for p in drafts if p["kind"] == "task" and p["index"] == 1]
    assert len(titled) == 2 and all("[REDACTED]" in title for title in titled)
    for payload in drafts:
        item = payload.get("item", {})
        assert set(payload) <= {"kind", "attempt", "index", "item"}
        for name, value in item.items():
            if isinstance(value, str):
                assert len(value) <= (PROSE_CHARS if name in ("goal", "description") else 200)
        assert len(item.get("title", "")) <= TEXT_CHARS
    described = [p["item"]["description"] for p in drafts if p["kind"] == "task"]
    assert any(d.endswith("…") and len(d) == PROSE_CHARS for d in described)


async def test_the_mission_view_shows_the_newest_replys_draft_while_it_plans(
    ctx: ServiceContext, chat: ScriptedChatServer, planner: LLMPlanner
) -> None:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor="user:test")
    planning = asyncio.create_task(
        plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=planner)
    )
    attempts: set[int] = set()
    while not planning.done():
        view = await read_mission_view(ctx, mission_id=mission.id, audit_limit=0)
        if view.mission.status == "planning" and view.draft is not None:
            attempts.add(view.draft.attempt)
            # A restart empties the draft: never the first reply's tasks under the second.
            assert len(view.draft.tasks) <= len(json.loads(plan_json())["tasks"])
        await asyncio.sleep(0.02)
    await planning
    assert attempts <= {1, 2} and attempts, attempts
    after = await read_mission_view(ctx, mission_id=mission.id, audit_limit=0)
    assert after.mission.status == "planned" and after.draft is None
