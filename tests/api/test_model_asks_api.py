"""A model that asks, over the API: 202 with its questions, answers that plan (both databases).

The app plans with a model on the scripted server, through the real SDK.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from markupsafe import escape

from missionctl.app import create_app
from missionctl.settings import LLMSettings, Settings
from tests.e2e.test_llm_mission import plan_json
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

GOAL = "Build the portal for the partners"
QUESTIONS = ["Who are the partners?", "What must they do in the portal?"]
REASON = "The goal does not say who the partners are."


@pytest.fixture
async def http(
    settings: Settings, openai_server: ScriptedOpenAIServer
) -> AsyncIterator[httpx2.AsyncClient]:
    """An admin's HTTP client of the app planning with a model on the scripted server."""
    llm = LLMSettings(base_url=openai_server.base_url, model="gpt-4o-mini", timeout_s=5)
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://testserver", headers=headers
        ) as client:
            yield client
        await assert_consistent(app.state.ctx)


def _script(server: ScriptedOpenAIServer, *replies: dict[str, Any] | str) -> None:
    for reply in replies:
        text = plan_json() if reply == "plan" else json.dumps(reply)
        server.push(Content(text, usage=Usage(1000, 100)))


async def test_a_model_asks_over_the_api_and_plans_with_the_answers(
    http: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    _script(openai_server, {"questions": QUESTIONS, "reason": REASON}, "plan")
    mission_id = (await http.post("/api/v1/missions", json={"goal": GOAL})).json()["id"]

    asked = await http.post(f"/api/v1/missions/{mission_id}/plan")

    assert asked.status_code == 202, asked.text
    assert asked.json()["questions"] == QUESTIONS and asked.json()["reason"] == REASON
    mission = (await http.get(f"/api/v1/missions/{mission_id}")).json()
    assert mission["status"] == "needs_clarification"
    assert (mission["input_tokens"], mission["output_tokens"]) == (1000, 100)
    page = (await http.get(f"/missions/{mission_id}")).text
    assert all(str(escape(question)) in page for question in QUESTIONS)

    planned = await http.post(
        f"/api/v1/missions/{mission_id}/clarification",
        json={"answers": ["Resellers", "Order stock"]},
    )

    assert planned.status_code == 201, planned.text
    assert planned.json()["source"] == "gpt-4o-mini"
    prompt = openai_server.chat_requests[1].messages[-1]["content"]
    assert f"Q: {QUESTIONS[0]}\n  A: Resellers" in prompt
    mission = (await http.get(f"/api/v1/missions/{mission_id}")).json()
    assert (mission["status"], mission["input_tokens"]) == ("planned", 2000)
