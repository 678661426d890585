"""A capped run reserves each running step's most possible cost, and shows the reservation.

Through the API, with the embedded engine running the real ``llm:`` agent against the scripted
OpenAI-compatible server on 127.0.0.1 (the real ``openai`` SDK in between).
"""

from collections.abc import AsyncIterator

import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from missionctl.app import create_app
from missionctl.db.models import Run
from missionctl.settings import LLMSettings, Settings
from tests.e2e.test_llm_mission import answer_mission_call
from tests.engine.helpers import poll_json
from tests.support.auth import bearer_headers
from tests.support.openai_server import Delay, ScriptedOpenAIServer

MODEL = "gpt-4o-mini"  # $0.15 in, $0.60 out per million tokens (bundled)


@pytest.fixture
async def api(
    settings: Settings, openai_server: ScriptedOpenAIServer
) -> AsyncIterator[httpx2.AsyncClient]:
    """The API and its engine, with the model served by the scripted server."""
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-test"), model=MODEL, timeout_s=10
    )
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield http


async def test_steps_that_would_pass_the_cap_together_run_one_after_the_other(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    # Each reply takes a moment, so the run is seen with a step running.
    openai_server.default_handler = lambda body: Delay(0.5, answer_mission_call(body))
    spec = {
        "name": "reserved",
        "steps": [
            {"id": "api", "agent": "llm:architect", "estimate_tokens": 10_000},
            {"id": "docs", "agent": "llm:writer", "estimate_tokens": 10_000},
        ],
    }
    saved = await api.post("/api/v1/workflows", json=spec)
    assert saved.status_code == 201, saved.text
    # Each step may use 10,000 tokens: $0.006 at gpt-4o-mini's output price, its reserve. The
    # estimates ($0.002625 each) fit a $0.009 cap together; the reserves do not.
    started = await api.post(
        f"/api/v1/workflows/{saved.json()['id']}/runs", json={"budget_usd": 0.009}
    )
    assert started.status_code == 202, started.text
    url = f"/api/v1/runs/{started.json()['id']}"

    running = await poll_json(api, url, lambda r: any(s["status"] == "running" for s in r["steps"]))
    assert running["reserved_usd"] == pytest.approx(0.006)
    assert sorted(s["status"] for s in running["steps"]) == ["queued", "running"]

    done = await poll_json(api, url, lambda r: r["status"] not in ("running", "pending"))
    assert done["status"] == "completed", done
    assert done["reserved_usd"] == 0
    # Each call used 500 + 250 tokens: $0.000225.
    assert done["spent_usd"] == pytest.approx(0.00045) and done["spent_usd"] <= 0.009
    requests = openai_server.chat_requests
    assert len(requests) == 2
    # Each request asked for no more than the step's limit leaves after its prompt.
    assert all(0 < r.body["max_tokens"] < 10_000 for r in requests if r.body is not None)
    first_end = min(s["ended_at"] for s in done["steps"])
    last_start = max(s["started_at"] for s in done["steps"])
    assert last_start >= first_end  # never both at once


async def test_an_uncapped_run_reserves_nothing_and_limits_no_call(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answer_mission_call
    spec = {"name": "free", "steps": [{"id": "api", "agent": "llm:architect"}]}
    saved = await api.post("/api/v1/workflows", json=spec)
    started = await api.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
    done = await poll_json(
        api, f"/api/v1/runs/{started.json()['id']}", lambda r: r["status"] == "completed"
    )
    assert done["reserved_usd"] == 0
    [request] = openai_server.chat_requests
    assert request.body is not None and "max_tokens" not in request.body


async def test_a_capped_llm_step_without_a_token_limit_is_refused_naming_the_step(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    spec = {"name": "unlimited", "steps": [{"id": "api", "agent": "llm:architect"}]}
    saved = await api.post("/api/v1/workflows", json=spec)
    refused = await api.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={"budget_usd": 1})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "steps.api.estimate_tokens"
    assert "run without a budget cap" in error["message"]
    ctx = api._transport.app.state.ctx  # type: ignore[attr-defined]
    async with ctx.read() as session:
        assert await session.scalar(select(func.count()).select_from(Run)) == 0  # none started
    assert openai_server.chat_requests == []
