"""A model planner asks instead of guessing, through the same contract as the local planner.

On both databases, through the real SDK against the scripted server: the model's questions
put the mission in ``needs_clarification`` and the tokens it spent asking are charged; the
answers reach its next prompt and its plan is stored; hostile question replies (too many,
none, a secret, 100 kB) are mended, redacted or sent back, never stored as they came.
"""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.llm import OpenAICompatibleClient
from missionctl.planning import LLMPlanner
from missionctl.planning.asking import DEFAULT_REASON
from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
from missionctl.schemas.missions import MAX_QUESTIONS, QUESTION_MAX_CHARS, MissionCreate
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import answer_questions, plan_mission
from tests.e2e.test_llm_mission import plan_json
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

ACTOR = "user:test"
MODEL = "gpt-4o-mini"  # a bundled price, so what asking cost is known
GOAL = "Build the portal for the partners"
QUESTIONS = ["Who are the partners?", "What must they be able to do in the portal?"]
REASON = "The goal does not say who the partners are or what the portal is for."
SECRET = "sk-proj-AbC123xyz_789QrStUvWx"


def asking(*replies: dict[str, Any] | str) -> Callable[[dict[str, Any]], Content]:
    """A handler that sends ``replies`` in turn (JSON objects, or a plan for ``"plan"``)."""
    queue = list(replies)

    def handle(body: dict[str, Any]) -> Content:
        reply = queue.pop(0)
        text = plan_json() if reply == "plan" else json.dumps(reply)
        return Content(text, usage=Usage(1000, 100))

    return handle


@pytest.fixture
async def model_planner(openai_server: ScriptedOpenAIServer) -> AsyncIterator[LLMPlanner]:
    client = OpenAICompatibleClient(
        base_url=openai_server.base_url, api_key=None, model=MODEL, timeout_s=5, max_retries=0
    )
    yield LLMPlanner(client)
    await client.aclose()


async def _plan(ctx: ServiceContext, planner: LLMPlanner) -> tuple[uuid.UUID, Any]:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    result = await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=planner)
    return mission.id, result


async def _asked_event(ctx: ServiceContext, mission_id: uuid.UUID) -> dict[str, Any]:
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event)
            .where(Event.mission_id == mission_id, Event.type == "mission.needs_clarification")
            .order_by(Event.seq)
        )
        return dict(rows.all()[-1].payload)


async def test_a_model_that_asks_leaves_the_mission_waiting_and_is_charged(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    openai_server.default_handler = asking({"questions": QUESTIONS, "reason": REASON})

    mission_id, asked = await _plan(ctx, model_planner)

    assert isinstance(asked, ClarificationRead)
    assert (asked.status, asked.questions, asked.reason) == (
        "needs_clarification",
        QUESTIONS,
        REASON,
    )
    waiting = await read_mission(ctx, mission_id=mission_id)
    assert waiting.status == "needs_clarification"
    assert [(r.questions, r.answers) for r in waiting.clarifications] == [(QUESTIONS, None)]
    assert (waiting.input_tokens, waiting.output_tokens) == (1000, 100)
    assert waiting.spent_usd > 0
    event = await _asked_event(ctx, mission_id)
    assert event["model"] == MODEL and event["questions"] == QUESTIONS
    assert (event["input_tokens"], event["output_tokens"]) == (1000, 100)
    assert event["cost_micros"] == round(waiting.spent_usd * 1_000_000)


async def test_the_answers_reach_the_models_next_prompt_and_its_plan_is_stored(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    openai_server.default_handler = asking({"questions": QUESTIONS, "reason": REASON}, "plan")
    mission_id, _ = await _plan(ctx, model_planner)

    plan = await answer_questions(
        ctx,
        mission_id=mission_id,
        actor=ACTOR,
        planner=model_planner,
        answers=ClarificationAnswers(answers=["Resellers", "Order stock and track deliveries"]),
    )

    assert isinstance(plan, PlanRead) and plan.source == MODEL
    _, second = openai_server.chat_requests
    mission_part = second.messages[-1]["content"].split("</mission>")[0]
    assert f"Q: {QUESTIONS[0]}\n  A: Resellers" in mission_part
    assert f"Q: {QUESTIONS[1]}\n  A: Order stock and track deliveries" in mission_part
    planned = await read_mission(ctx, mission_id=mission_id)
    assert planned.status == "planned"
    assert (planned.input_tokens, planned.output_tokens) == (2000, 200)  # asking + planning


async def test_a_model_that_asks_again_after_answers_opens_a_new_round(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    follow_up = ["Which carrier delivers the stock?"]
    openai_server.default_handler = asking(
        {"questions": QUESTIONS, "reason": REASON}, {"questions": follow_up}
    )
    mission_id, _ = await _plan(ctx, model_planner)

    asked = await answer_questions(
        ctx,
        mission_id=mission_id,
        actor=ACTOR,
        planner=model_planner,
        answers=ClarificationAnswers(answers=["Resellers"]),
    )

    assert isinstance(asked, ClarificationRead)
    assert (asked.questions, asked.reason) == (follow_up, DEFAULT_REASON)
    waiting = await read_mission(ctx, mission_id=mission_id)
    assert [(r.questions, r.answers) for r in waiting.clarifications] == [
        (QUESTIONS, ["Resellers", ""]),
        (follow_up, None),
    ]


async def test_fifty_questions_are_cut_to_the_limit(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    many = [f"Question number {n}?" for n in range(50)]
    openai_server.default_handler = asking({"questions": many, "reason": REASON})

    _, asked = await _plan(ctx, model_planner)

    assert isinstance(asked, ClarificationRead)
    assert asked.questions == many[:MAX_QUESTIONS]


async def test_a_100_kb_question_and_reason_are_cut(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    huge = "Which " + "x" * 100_000 + "?"
    openai_server.default_handler = asking({"questions": [huge, "Who?"], "reason": "y" * 100_000})

    mission_id, asked = await _plan(ctx, model_planner)

    assert isinstance(asked, ClarificationRead)
    assert len(asked.questions[0]) == QUESTION_MAX_CHARS and asked.questions[0].endswith("…")
    assert asked.questions[1] == "Who?"
    assert len(asked.reason) <= 300
    waiting = await read_mission(ctx, mission_id=mission_id)
    assert waiting.clarifications[0].questions == asked.questions


async def test_a_secret_in_the_questions_is_redacted(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    openai_server.default_handler = asking(
        {"questions": [f"Should the portal use the key {SECRET}?"], "reason": f"Saw {SECRET}"}
    )

    mission_id, asked = await _plan(ctx, model_planner)

    assert isinstance(asked, ClarificationRead)
    assert asked.questions == ["Should the portal use the key [REDACTED]?"]
    assert asked.reason == "Saw [REDACTED]"
    assert SECRET not in json.dumps(await _asked_event(ctx, mission_id))
    waiting = await read_mission(ctx, mission_id=mission_id)
    assert SECRET not in waiting.model_dump_json()


@pytest.mark.parametrize("questions", [[], ["   ", 42, None], "Who are the partners?"])
async def test_an_unreadable_question_list_is_sent_back_and_the_plan_stored(
    ctx: ServiceContext,
    openai_server: ScriptedOpenAIServer,
    model_planner: LLMPlanner,
    questions: object,
) -> None:
    openai_server.default_handler = asking({"questions": questions, "reason": REASON}, "plan")

    mission_id, plan = await _plan(ctx, model_planner)

    assert isinstance(plan, PlanRead) and plan.source == MODEL
    _, repair = openai_server.chat_requests
    assert (
        "questions: a reply that asks instead of planning lists 1 to 10"
        in (repair.messages[-1]["content"])
    )
    planned = await read_mission(ctx, mission_id=mission_id)
    assert (planned.status, planned.input_tokens) == ("planned", 2000)


async def test_asking_under_a_budget_is_limited_and_charged_to_it(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    openai_server.default_handler = asking({"questions": QUESTIONS, "reason": REASON})
    data = MissionCreate(goal=GOAL, budget_usd=Decimal("1"))
    mission = await create_mission(ctx, data=data, actor=ACTOR)

    asked = await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=model_planner)

    assert isinstance(asked, ClarificationRead)
    [request] = openai_server.chat_requests
    assert request.body is not None
    assert request.body.get("max_tokens") or request.body.get("max_completion_tokens")
    waiting = await read_mission(ctx, mission_id=mission.id)
    assert 0 < waiting.spent_usd < 1
