"""A mission whose goal the planner cannot read waits for answers, then plans with them.

On both databases: the questions and answers are kept with the mission and in the event log,
a refused answer changes nothing, and the answers reach a model's prompt through the real SDK.
"""

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.errors import Conflict, ValidationFailed
from missionctl.llm import OpenAICompatibleClient
from missionctl.planning import LLMPlanner, LocalPlanner
from missionctl.planning.clarity import RULES
from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import answer_questions, plan_again, plan_mission
from tests.e2e.test_llm_mission import plan_json
from tests.planning.helpers import GOALS
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

ACTOR = "user:test"
FRENCH = "Créer une application de réservation pour un salon de coiffure"
SALON = "Build a web app where salon clients book haircut appointments and pay a deposit"


async def _mission(ctx: ServiceContext, goal: str) -> MissionRead:
    return await create_mission(ctx, data=MissionCreate(goal=goal), actor=ACTOR)


async def _asked(ctx: ServiceContext, goal: str) -> tuple[MissionRead, ClarificationRead]:
    mission = await _mission(ctx, goal)
    asked = await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    assert isinstance(asked, ClarificationRead)
    return mission, asked


async def _events(ctx: ServiceContext, mission_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event).where(Event.mission_id == mission_id).order_by(Event.seq)
        )
        return [(row.type, row.payload) for row in rows.all()]


async def test_a_vague_goal_waits_for_answers_and_the_answers_make_the_plan(
    ctx: ServiceContext,
) -> None:
    mission, asked = await _asked(ctx, "Build a thing." * 285)

    assert asked.status == "needs_clarification"
    assert asked.questions == list(RULES.vague.questions)
    waiting = await read_mission(ctx, mission_id=mission.id)
    assert waiting.status == "needs_clarification"
    assert [(r.questions, r.answers) for r in waiting.clarifications] == [(asked.questions, None)]

    plan = await answer_questions(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        planner=LocalPlanner(),
        answers=ClarificationAnswers(answers=[SALON, "Salon clients and stylists"]),
    )

    assert isinstance(plan, PlanRead) and plan.version == 1
    assert "haircut appointments" in json.dumps(plan.model_dump(mode="json"))
    planned = await read_mission(ctx, mission_id=mission.id)
    assert planned.status == "planned"
    assert planned.clarifications[0].answers == [SALON, "Salon clients and stylists", "", ""]
    types = [t for t, _ in await _events(ctx, mission.id)]
    assert types == [
        "mission.created",
        "mission.planning",
        "mission.needs_clarification",
        "mission.answered",
        "mission.planning",
        "plan.created",
        "mission.planned",
    ]
    events = dict(await _events(ctx, mission.id))
    assert events["mission.needs_clarification"] == {
        "status": "needs_clarification",
        "reason": asked.reason,
        "questions": asked.questions,
    }
    assert events["mission.answered"]["answers"][0] == SALON


async def test_the_answers_stay_with_the_mission_when_it_is_planned_again(
    ctx: ServiceContext,
) -> None:
    mission, _ = await _asked(ctx, "Build an app")
    answers = ClarificationAnswers(answers=[SALON])
    await answer_questions(
        ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner(), answers=answers
    )

    again = await plan_again(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())

    assert isinstance(again, PlanRead) and again.version == 2
    assert "haircut appointments" in json.dumps(again.model_dump(mode="json"))


async def test_a_french_goal_asks_for_english_and_plans_from_the_restatement(
    ctx: ServiceContext,
) -> None:
    mission, asked = await _asked(ctx, FRENCH)

    assert "French" in asked.reason
    [question] = asked.questions
    assert "local planner reads English" in question and "model reads any language" in question

    plan = await answer_questions(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        planner=LocalPlanner(),
        answers=ClarificationAnswers(answers=["Build a booking web app for a hair salon"]),
    )

    assert isinstance(plan, PlanRead)
    assert "booking web app for a hair salon" in plan.summary.lower()
    assert "Créer" not in plan.summary


async def test_answers_that_still_say_nothing_bring_the_questions_back(
    ctx: ServiceContext,
) -> None:
    mission, asked = await _asked(ctx, "Build a thing.")

    again = await answer_questions(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        planner=LocalPlanner(),
        answers=ClarificationAnswers(answers=["something good", "", "an app"]),
    )

    assert isinstance(again, ClarificationRead) and again.questions == asked.questions
    waiting = await read_mission(ctx, mission_id=mission.id)
    assert waiting.status == "needs_clarification"
    answered_then_waiting = [r.answers for r in waiting.clarifications]
    assert answered_then_waiting == [["something good", "", "an app", ""], None]


async def test_planning_again_without_answers_keeps_one_round_waiting(ctx: ServiceContext) -> None:
    mission, _ = await _asked(ctx, "Build a thing.")

    again = await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())

    assert isinstance(again, ClarificationRead)
    waiting = await read_mission(ctx, mission_id=mission.id)
    assert len(waiting.clarifications) == 1 and waiting.clarifications[0].answers is None


@pytest.mark.parametrize("goal", GOALS)
async def test_the_fixture_goals_never_ask(ctx: ServiceContext, goal: str) -> None:
    mission = await _mission(ctx, goal)

    plan = await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())

    assert isinstance(plan, PlanRead)
    assert (await read_mission(ctx, mission_id=mission.id)).clarifications == []


async def test_answers_are_refused_unless_the_mission_waits_for_them(ctx: ServiceContext) -> None:
    draft = await _mission(ctx, "Build a thing.")
    answers = ClarificationAnswers(answers=[SALON])

    with pytest.raises(Conflict) as refused:
        await answer_questions(
            ctx, mission_id=draft.id, actor=ACTOR, planner=LocalPlanner(), answers=answers
        )

    assert refused.value.field == "mission_id"
    assert "draft, not waiting for answers" in refused.value.message
    after = await read_mission(ctx, mission_id=draft.id)
    assert (after.status, after.clarifications) == ("draft", [])
    assert [t for t, _ in await _events(ctx, draft.id)] == ["mission.created"]


async def test_more_answers_than_questions_are_refused_and_change_nothing(
    ctx: ServiceContext,
) -> None:
    mission, _ = await _asked(ctx, FRENCH)  # one question
    before = await _events(ctx, mission.id)

    with pytest.raises(ValidationFailed) as refused:
        await answer_questions(
            ctx,
            mission_id=mission.id,
            actor=ACTOR,
            planner=LocalPlanner(),
            answers=ClarificationAnswers(answers=["Build a booking app", "for salons"]),
        )

    assert refused.value.field == "answers"
    assert "at most 1 answers" in refused.value.message
    after = await read_mission(ctx, mission_id=mission.id)
    assert after.status == "needs_clarification" and after.clarifications[0].answers is None
    assert await _events(ctx, mission.id) == before


@pytest.fixture
async def model_planner(openai_server: ScriptedOpenAIServer) -> AsyncIterator[LLMPlanner]:
    client = OpenAICompatibleClient(
        base_url=openai_server.base_url,
        api_key=None,
        model="gpt-4o-mini",
        timeout_s=5,
        max_retries=0,
    )
    yield LLMPlanner(client)
    await client.aclose()


async def test_a_model_reads_the_answers_in_its_prompt(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model_planner: LLMPlanner
) -> None:
    openai_server.default_handler = lambda body: Content(plan_json(), usage=Usage(1200, 800))
    mission, asked = await _asked(ctx, "Build a thing.")

    plan = await answer_questions(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        planner=model_planner,
        answers=ClarificationAnswers(answers=[SALON, "", "A web app"]),
    )

    assert isinstance(plan, PlanRead) and plan.source == "gpt-4o-mini"
    [request] = openai_server.chat_requests
    prompt = request.messages[-1]["content"]
    mission_part = prompt.split("</mission>")[0]
    assert "Answers to the planner's questions:" in mission_part
    assert f"Q: {asked.questions[0]}\n  A: {SALON}" in mission_part
    assert f"Q: {asked.questions[2]}\n  A: A web app" in mission_part
    assert asked.questions[1] not in mission_part  # a skipped question is not sent
