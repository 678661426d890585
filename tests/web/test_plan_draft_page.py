"""The mission page while a model writes the plan: "Drafting the plan…", then the plan.

A planner stands in for the model: it drafts through the planning's real recorder (the
``plan.drafted`` events any reader reads), then waits until the test lets it hand in its plan.
"""

import asyncio
import uuid
from typing import Any, cast

import httpx2

from missionctl.llm import LLMClient, LLMUsage
from missionctl.planning import LLMPlanner, PlanningInput, build_local_plan
from missionctl.planning.base import PlannerResult
from missionctl.planning.drafts import DraftNote, DraftSink
from missionctl.schemas.dashboard import EventItem
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.web.live_lists import MISSION_LIST_EVENTS, changes_list
from tests.web.support import ACTOR

GOAL = "Build a URL shortener with click analytics"
HOSTILE = "<script>alert(1)</script>"


class SlowPlanner(LLMPlanner):
    """Drafts ``notes``, then hands in the local plan once ``release`` is set."""

    def __init__(self, notes: list[DraftNote]) -> None:
        super().__init__(client=cast(LLMClient, None))  # never asked: plan is its own
        self.notes = notes
        self.release = asyncio.Event()
        self.drafted = asyncio.Event()

    @property
    def model(self) -> str:
        return "slow-model"

    async def plan(
        self,
        mission: PlanningInput,
        *,
        max_tokens: int | None = None,
        on_draft: DraftSink | None = None,
    ) -> PlannerResult:
        assert on_draft is not None
        for note in self.notes:
            on_draft(note)
        self.drafted.set()
        await self.release.wait()
        draft = build_local_plan(mission)
        return PlannerResult(draft, "slow-model", LLMUsage(), 1, "planner/test")


def _task(index: int, title: str, attempt: int = 1, **more: Any) -> DraftNote:
    return DraftNote("task", attempt, index, {"key": f"t{index}", "title": title, **more})


async def _events_of(ctx: ServiceContext, mission_id: uuid.UUID, kind: str) -> int:
    from sqlalchemy import func, select

    from missionctl.db.models import Event

    async with ctx.read() as session:
        query = select(func.count()).where(Event.mission_id == mission_id, Event.type == kind)
        return int(await session.scalar(query) or 0)


async def test_the_page_shows_the_newest_reply_s_draft_escaped_then_the_plan(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    notes = [
        DraftNote("phase", 1, 0, {"key": "p1", "name": "Old phase", "task_keys": ["t0"]}),
        _task(0, "Old task"),
        DraftNote("restart", 2),
        DraftNote("phase", 2, 0, {"key": "p2", "name": "Foundations", "task_keys": ["t0", "t1"]}),
        _task(0, f"Design {HOSTILE}", 2, role="architect"),
        _task(1, "Build the API", 2, role="backend", depends_on=["t0"]),
    ]
    planner = SlowPlanner(notes)
    mission = await mission_service.create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    planning = asyncio.create_task(
        plan_service.plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=planner)
    )
    await planner.drafted.wait()
    for _ in range(200):  # recorded in the background, in transactions of their own
        if await _events_of(ctx, mission.id, "plan.drafted") == len(notes):
            break
        await asyncio.sleep(0.01)

    html = (await client.get(f"/missions/{mission.id}")).text
    panel = html.split('data-testid="plan-draft"', 1)[1].split("</section>", 1)[0]
    assert "Drafting the plan…" in panel and "reply 2" in panel
    assert "Foundations" in panel and "Build the API" in panel and "after t0" in panel
    assert "Old task" not in panel and "Old phase" not in panel  # void after the restart
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in panel
    assert "Drafted task 2: Build the API" in html  # the Audit Trail's line

    planner.release.set()
    await planning
    after = (await client.get(f"/missions/{mission.id}")).text
    assert 'data-testid="plan-draft"' not in after and "Plan v1" in after


def test_a_draft_does_not_re_render_the_missions_list() -> None:
    def item(kind: str) -> EventItem:
        return EventItem.model_validate(
            {
                "seq": 1,
                "ts": "2025-01-01T00:00:00Z",
                "type": kind,
                "actor": "system",
                "payload": {},
                "run_id": None,
                "step_id": None,
            }
        )

    assert not changes_list(item("plan.drafted"), MISSION_LIST_EVENTS)
    assert changes_list(item("plan.created"), MISSION_LIST_EVENTS)
