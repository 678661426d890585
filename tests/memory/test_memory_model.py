"""Mission memory with the model planner, through the real openai SDK (both databases).

The model's prompt carries the similar finished missions; a citation it makes of one of them
is kept, and one of a mission that was not offered is repaired (when an offered mission has an
item of that title) or dropped — never stored.
"""

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from markupsafe import escape

from missionctl.app import create_app
from missionctl.settings import LLMSettings, Settings
from tests.e2e.test_llm_mission import answer_mission_call, plan_json
from tests.memory.helpers import FOURTH, SHOPS, UNRELATED, cited, create, wait_status
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent
from tests.support.openai_server import Content, ScriptedOpenAIServer, Usage

OFFERED = re.compile(r"- Mission ([0-9a-f-]{36}): ")


@pytest.fixture
async def http(
    settings: Settings, openai_server: ScriptedOpenAIServer
) -> AsyncIterator[httpx2.AsyncClient]:
    """An admin's client of the app planning and running with a model on the scripted server."""
    llm = LLMSettings(base_url=openai_server.base_url, model="gpt-4o-mini", timeout_s=5)
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://testserver", headers=headers
        ) as client:
            yield client
        await assert_consistent(app.state.ctx)


def _citing_plan(prompt: str, unrelated: str) -> str:
    """A plan that cites well, cites an unknown id, a mission not offered and a title."""
    offered = OFFERED.findall(prompt)
    plan: dict[str, Any] = json.loads(plan_json())
    plan["decisions"][0]["from_mission"] = offered[1]  # kept
    plan["decisions"][1]["from_mission"] = str(uuid.uuid4())  # its title is offered: repaired
    plan["decisions"].append(
        {
            "title": "Gift wrapping",
            "choice": "Offer it",
            "reasons": ["Asked"],
            "from_mission": unrelated,
        }
    )  # not offered, no such title offered: dropped
    plan["risks"].append(
        {
            "title": "Chargeback fraud",
            "description": "Stolen cards",
            "severity": "high",
            "likelihood": "medium",
            "mitigation": "3-D Secure",
            "from_mission": "the tea shop",
        }
    )  # not an id: dropped
    return json.dumps(plan)


async def _finish(http: httpx2.AsyncClient, title: str, goal: str) -> str:
    mission_id = await create(http, title, goal)
    assert (await http.post(f"/api/v1/missions/{mission_id}/plan")).status_code == 201
    assert (await http.post(f"/api/v1/missions/{mission_id}/runs")).status_code == 202
    await wait_status(http, mission_id, {"completed", "failed"})
    return mission_id


async def test_the_model_reads_the_recollections_and_only_offered_citations_are_stored(
    http: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answer_mission_call
    past = [await _finish(http, title, goal) for title, goal in SHOPS]
    unrelated = await _finish(http, *UNRELATED)
    mission_id = await create(http, *FOURTH)
    openai_server.default_handler = lambda body: Content(
        _citing_plan(body["messages"][-1]["content"], unrelated), usage=Usage(1000, 500)
    )

    planned = await http.post(f"/api/v1/missions/{mission_id}/plan")

    assert planned.status_code == 201, planned.text
    prompt = openai_server.chat_requests[-1].messages[-1]["content"]
    memory = prompt.split("<memory>", 1)[1].split("</memory>", 1)[0]
    assert set(OFFERED.findall(memory)) == set(past) and unrelated not in memory
    assert all(title in memory for title, _ in SHOPS)
    assert "Lesson: The mission ended completed" in memory and "Decision: " in memory
    offered = OFFERED.findall(memory)
    plan = planned.json()
    citations = dict(cited(plan))
    decisions = plan["decisions"]
    assert citations[decisions[0]["title"]] == offered[1]  # kept as the model wrote it
    assert citations[decisions[1]["title"]] in past  # repaired to an offered mission
    assert "Gift wrapping" not in citations and "Chargeback fraud" not in citations
    assert set(citations.values()) <= set(past)
    notes = " ".join(plan["notes"])
    assert "was repaired to an offered mission" in notes and "was dropped" in notes

    log = (await http.get(f"/api/v1/missions/{mission_id}/decisions")).json()
    stored = {d["title"]: d["from_mission"] for d in log}
    assert stored["Gift wrapping"] is None and stored[decisions[0]["title"]] == offered[1]
    register = (await http.get(f"/api/v1/missions/{mission_id}/risks")).json()
    assert (
        next(r for r in register["risks"] if r["title"] == "Chargeback fraud")["from_mission"]
        is None
    )
    page = (await http.get(f"/missions/{mission_id}")).text
    title = next(t for (t, _), m in zip(SHOPS, past, strict=True) if m == offered[1])
    assert f'<a href="/missions/{offered[1]}">from mission {escape(title)}</a>' in page
