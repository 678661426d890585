"""Planning with a model keeps to the mission's budget, through the real SDK and a real server.

The planner talks to the scripted OpenAI-compatible server on 127.0.0.1 through the real
``openai`` SDK, so "nothing was sent" is what the server saw, not what a fake was told.
"""

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.errors import ValidationFailed
from missionctl.llm import OpenAICompatibleClient
from missionctl.planning import LLMPlanner, PlanRejected
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.prices import PriceSet
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import plan_mission
from missionctl.services.usecases.pricing import set_price
from tests.e2e.test_llm_mission import plan_json
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

GOAL = "Build a URL shortener with click analytics and custom aliases"
UNPRICED = "acme-unpriced-7b"  # neither the bundled price list nor an override knows it
PRICED = "gpt-4o-mini"  # $0.15 in, $0.60 out per million tokens (bundled)


@pytest.fixture
async def planner_for(
    openai_server: ScriptedOpenAIServer,
) -> AsyncIterator[dict[str, LLMPlanner]]:
    """LLM planners of both models over the scripted server (closed afterwards)."""
    clients = {
        model: OpenAICompatibleClient(
            base_url=openai_server.base_url, api_key=None, model=model, timeout_s=5, max_retries=0
        )
        for model in (UNPRICED, PRICED)
    }
    yield {model: LLMPlanner(client) for model, client in clients.items()}
    for client in clients.values():
        await client.aclose()


async def _mission(ctx: ServiceContext, budget: str) -> MissionRead:
    data = MissionCreate(goal=GOAL, budget_usd=Decimal(budget))
    return await create_mission(ctx, data=data, actor="user:test")


async def _rejections(ctx: ServiceContext) -> list[Event]:
    async with ctx.read() as session:
        rows = await session.scalars(select(Event).where(Event.type == "plan.rejected"))
        return list(rows.all())


async def test_an_unpriced_model_is_refused_before_any_request(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, planner_for: dict[str, LLMPlanner]
) -> None:
    openai_server.default_handler = lambda body: Content(plan_json(), usage=Usage(1200, 800))
    mission = await _mission(ctx, "5")

    with pytest.raises(ValidationFailed) as raised:
        await plan_mission(
            ctx, mission_id=mission.id, actor="user:test", planner=planner_for[UNPRICED]
        )

    assert openai_server.chat_requests == []  # nothing reached the server
    problem = raised.value.problems[0]
    assert problem.field == "model"
    assert UNPRICED in problem.message and "missionctl prices set" in problem.message
    after = await read_mission(ctx, mission_id=mission.id)
    assert after.status == "failed" and after.spent_usd == 0 and after.input_tokens == 0
    rejected = await _rejections(ctx)
    assert len(rejected) == 1 and "missionctl prices set" in json.dumps(rejected[0].payload)


async def test_with_a_price_set_the_same_model_plans_and_is_charged_at_it(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, planner_for: dict[str, LLMPlanner]
) -> None:
    openai_server.default_handler = lambda body: Content(plan_json(), usage=Usage(1200, 800))
    await set_price(
        ctx,
        data=PriceSet(
            model=UNPRICED, input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(2)
        ),
        actor="user:admin",
    )
    mission = await _mission(ctx, "5")

    plan = await plan_mission(
        ctx, mission_id=mission.id, actor="user:test", planner=planner_for[UNPRICED]
    )

    assert plan.source == UNPRICED
    assert len(openai_server.chat_requests) == 1
    # $5 pays for 2.5M tokens at $2 per million: the reply may use what the prompt leaves.
    assert 0 < openai_server.chat_requests[0].body["max_tokens"] < 2_500_000
    after = await read_mission(ctx, mission_id=mission.id)
    assert after.status == "planned"
    assert after.spent_usd == pytest.approx((1200 * 1 + 800 * 2) / 1e6)


async def test_a_budget_too_small_for_the_prompt_sends_nothing(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, planner_for: dict[str, LLMPlanner]
) -> None:
    openai_server.default_handler = lambda body: Content(plan_json(), usage=Usage(1200, 800))
    mission = await _mission(ctx, "0.0001")  # 166 tokens of gpt-4o-mini at its output price

    with pytest.raises(PlanRejected) as raised:
        await plan_mission(
            ctx, mission_id=mission.id, actor="user:test", planner=planner_for[PRICED]
        )

    assert openai_server.chat_requests == []
    problem = raised.value.problems[0]
    assert problem.field == "budget_usd"
    assert "$0.0001 left" in problem.message and "166 tokens" in problem.message
    assert "raise the budget" in problem.message
    after = await read_mission(ctx, mission_id=mission.id)
    assert after.status == "failed" and after.spent_usd == 0


async def test_a_repair_the_rest_of_the_budget_cannot_pay_for_is_not_sent(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, planner_for: dict[str, LLMPlanner]
) -> None:
    # The first plan breaks the plan rules (a cycle) and uses most of the budget's tokens.
    openai_server.default_handler = lambda body: Content(
        plan_json(cycle=True), usage=Usage(10_000, 5_000)
    )
    mission = await _mission(ctx, "0.01")  # 16,666 tokens of gpt-4o-mini at its output price

    with pytest.raises(PlanRejected) as raised:
        await plan_mission(
            ctx, mission_id=mission.id, actor="user:test", planner=planner_for[PRICED]
        )

    assert len(openai_server.chat_requests) == 1  # the repair was never sent
    assert 0 < openai_server.chat_requests[0].body["max_tokens"] <= 16_666
    assert raised.value.problems[0].field == "budget_usd"
    after = await read_mission(ctx, mission_id=mission.id)
    assert after.status == "failed"
    assert after.input_tokens == 10_000 and after.output_tokens == 5_000  # the call is charged
    assert after.spent_usd == pytest.approx(0.0045) and after.spent_usd <= 0.01
