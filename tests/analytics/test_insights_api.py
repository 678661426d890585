"""``GET /api/v1/analytics/insights``: a viewer reads it, no one unsigned does, hostile
parameters get a 422 naming the parameter, and a configured model writes it through the app."""

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.eventlog import append
from missionctl.services.usecases.insights import MODEL_ANSWERS
from missionctl.settings import EngineSettings, LLMSettings, Settings
from tests.analytics.test_api import BEFORE_ANY_QUERY, HOSTILE, TODAY, _viewer
from tests.analytics.test_insights_service import REPLY, SECRETS, _journey
from tests.support.auth import bearer_headers
from tests.support.openai_server import ScriptedOpenAIServer

URL = "/api/v1/analytics/insights"
SECTIONS = ["what_changed", "why_it_matters", "suggested_actions", "questions_to_investigate"]


@pytest.fixture(autouse=True)
def _no_cached_answers() -> Iterator[None]:
    MODEL_ANSWERS.clear()
    yield
    MODEL_ANSWERS.clear()


async def test_a_viewer_reads_the_insights_and_no_one_unsigned_does(
    client: httpx2.AsyncClient,
) -> None:
    answer = await client.get(URL, headers=await _viewer(client))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["source"] == "deterministic" and body["model"] is None
    assert body["fallback_reason"] is None  # no model is configured: nothing fell back
    assert body["meta"]["range"] == {
        "since": str(TODAY.fromordinal(TODAY.toordinal() - 29)),
        "until": str(TODAY),
        "days": 30,
    }
    assert body["summary"] and list(body["sections"]) == SECTIONS
    assert all(1 <= len(body["sections"][name]) <= 5 for name in SECTIONS)

    token = client.headers.pop("Authorization")
    try:
        unsigned = await client.get(URL)
        forged = await client.get(URL, headers={"Authorization": "Bearer mc_nope"})
    finally:
        client.headers["Authorization"] = token
    assert unsigned.status_code == 401 and forged.status_code == 401


INSIGHTS_HOSTILE = [case for case in HOSTILE if case[1] != "grain"] + [
    ({"since": "2026-01-01", "until": "2026-01-01" + "x" * 100}, "until", ""),
    ({"segment": "role:" + "{" * 200}, "segment", ""),
]


# Refused while the URL is read, before any query, as the other analytics reads' (test_api.py).
@BEFORE_ANY_QUERY
@pytest.mark.parametrize(("params", "field", "fix"), INSIGHTS_HOSTILE)
async def test_hostile_parameters_get_a_422_naming_the_parameter(
    client: httpx2.AsyncClient, params: dict[str, Any], field: str, fix: str
) -> None:
    answer = await client.get(URL, params=params, headers=await _viewer(client))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and fix in error["message"]
    assert "mc_live" not in answer.text


@pytest.fixture
def model_settings(settings: Settings, openai_server: ScriptedOpenAIServer) -> Settings:
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-app-key"), model="app-model"
    )
    return settings.model_copy(update={"llm": llm, "engine": EngineSettings(embedded=False)})


async def test_the_configured_model_writes_them_through_the_app(
    model_settings: Settings, openai_server: ScriptedOpenAIServer
) -> None:
    app = create_app(model_settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        async with ctx.write() as session:
            await append(session, _journey("alice.secret", "Project Nightingale", ok=False))
        headers = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
        openai_server.push_json(REPLY)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answer = await http.get(URL, params={"since": str(TODAY)}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["model"], body["summary"]) == (
        "model",
        "app-model",
        REPLY["summary"],
    )
    (request,) = openai_server.chat_requests
    assert not any(secret in json.dumps(request.body) for secret in SECRETS)
