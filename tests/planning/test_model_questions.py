"""The LLM planner's questions: read, mended and redacted from the reply, with what they cost.

Through the real SDK against the scripted server; the reading rules also directly.
"""

import json
from collections.abc import AsyncIterator

import pytest

from missionctl.llm import LLMUsage, OpenAICompatibleClient
from missionctl.llm.structured import ReplyError
from missionctl.planning import ClarificationNeeded, LLMPlanner, PlanningInput
from missionctl.planning.asking import DEFAULT_REASON, is_question_reply, read_questions
from missionctl.planning.prompts import PLANNER_SYSTEM_PROMPT
from tests.e2e.test_llm_mission import plan_json
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

MISSION = PlanningInput(title="Portal", goal="Build the portal for the partners")


@pytest.fixture
async def planner(openai_server: ScriptedOpenAIServer) -> AsyncIterator[LLMPlanner]:
    client = OpenAICompatibleClient(
        base_url=openai_server.base_url, api_key=None, model="m-1", timeout_s=5, max_retries=0
    )
    yield LLMPlanner(client, max_repairs=2)
    await client.aclose()


async def test_a_question_reply_ends_planning_with_its_questions_and_cost(
    planner: LLMPlanner, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.push(Content(json.dumps({"questions": ["Who?"]}), usage=Usage(700, 30)))

    with pytest.raises(ClarificationNeeded) as asked:
        await planner.plan(MISSION)

    assert (asked.value.questions, asked.value.reason) == (("Who?",), DEFAULT_REASON)
    assert (asked.value.model, asked.value.attempts) == ("m-1", 1)
    assert asked.value.usage == LLMUsage(input_tokens=700, output_tokens=30)


async def test_the_calls_before_the_questions_are_counted(
    planner: LLMPlanner, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.push(
        Content(json.dumps({"summary": "no tasks"}), usage=Usage(700, 30)),
        Content(json.dumps({"questions": ["Who?"], "reason": "Vague."}), usage=Usage(900, 40)),
    )

    with pytest.raises(ClarificationNeeded) as asked:
        await planner.plan(MISSION)

    assert asked.value.attempts == 2
    assert asked.value.usage == LLMUsage(input_tokens=1600, output_tokens=70)


async def test_a_plan_that_carries_questions_is_a_plan_sent_back_for_the_extra_field(
    planner: LLMPlanner, openai_server: ScriptedOpenAIServer
) -> None:
    plan = json.loads(plan_json())
    openai_server.push(Content(json.dumps({**plan, "questions": ["Who?"]})), Content(plan_json()))

    result = await planner.plan(MISSION)

    assert result.attempts == 2
    assert "questions" in openai_server.chat_requests[1].messages[-1]["content"]
    assert not is_question_reply({**plan, "questions": ["Who?"]})


def test_blank_repeated_and_nul_questions_are_mended() -> None:
    read = read_questions({"questions": [" Who? ", "", "Who?", "Wh\x00at?", 3], "reason": " "})
    assert read.questions == ("Who?", "What?")
    assert read.reason == DEFAULT_REASON


def test_no_readable_question_is_a_reply_error_naming_the_rule() -> None:
    with pytest.raises(ReplyError) as error:
        read_questions({"questions": {"q": "Who?"}})
    assert error.value.first_location == "questions"


def test_the_system_prompt_says_when_the_model_may_ask() -> None:
    for needle in ('{"questions": ["..."], "reason": "..."}', "1 to 10", "Never ask about"):
        assert needle in PLANNER_SYSTEM_PROMPT
