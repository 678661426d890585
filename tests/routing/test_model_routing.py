"""Cost-aware routing end to end: the catalogue, each llm: step's model, its event and its bill.

Through the API, with the embedded engine running the real ``llm:`` agent against the scripted
OpenAI-compatible server on 127.0.0.1 (the real ``openai`` SDK in between): what the server is
asked for is what routing chose, and the step is billed at that model's price.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.settings import LLMSettings, Settings
from tests.e2e.test_llm_mission import answer_mission_call
from tests.engine.helpers import poll_json
from tests.support.auth import bearer_headers
from tests.support.openai_server import ScriptedOpenAIServer

DEFAULT = "gpt-4o"  # $2.50 in, $10 out per million tokens (bundled)
CHEAP = "gpt-4o-mini"  # $0.15 in, $0.60 out


@pytest.fixture
async def api(
    settings: Settings, openai_server: ScriptedOpenAIServer
) -> AsyncIterator[httpx2.AsyncClient]:
    """The API and its engine as an admin, the model served by the scripted server."""
    openai_server.default_handler = answer_mission_call
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-test"), model=DEFAULT, timeout_s=10
    )
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield http


async def _run(api: httpx2.AsyncClient, spec: dict[str, Any], **body: Any) -> dict[str, Any]:
    saved = await api.post("/api/v1/workflows", json=spec)
    assert saved.status_code == 201, saved.text
    started = await api.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json=body)
    assert started.status_code == 202, started.text
    url = f"/api/v1/runs/{started.json()['id']}"
    done: dict[str, Any] = await poll_json(api, url, lambda r: r["status"] == "completed")
    return done


async def _routed_events(api: httpx2.AsyncClient, run_id: str) -> dict[str, dict[str, Any]]:
    events = (await api.get(f"/api/v1/runs/{run_id}/events", params={"limit": 500})).json()
    items = events["items"] if isinstance(events, dict) else events
    return {e["step_id"]: e["payload"] for e in items if e["type"] == "step.routed"}


TWO_ROLES = {
    "name": "two-roles",
    "steps": [
        {"id": "design", "agent": "llm:architect", "estimate_tokens": 20_000},
        {"id": "notes", "agent": "llm:writer", "depends_on": ["design"], "estimate_tokens": 20_000},
    ],
}


async def test_off_until_an_admin_allows_a_model_then_each_step_gets_the_cheapest_fit(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    # Nothing routable: every step runs on the configured model, and no event claims a route.
    before = await _run(api, TWO_ROLES)
    assert {s["routed_model"] for s in before["steps"]} == {DEFAULT}
    assert await _routed_events(api, before["id"]) == {}
    assert {r.body["model"] for r in openai_server.chat_requests if r.body} == {DEFAULT}

    # gpt-4o-mini allowed at tier 2: the writer (tier 1 is enough) moves to it; the architect
    # (tier 3) stays on the configured model.
    allowed = await api.put(f"/api/v1/models/{CHEAP}", json={"routable": True, "tier": 2})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["routable"] and allowed.json()["tier_name"] == "standard"
    assert allowed.json()["context_tokens"] == 128_000  # the price table's figure
    asked_before = len(openai_server.chat_requests)
    after = await _run(api, TWO_ROLES)
    models = {s["step_id"]: (s["routed_model"], s["routed_from"]) for s in after["steps"]}
    assert models == {"design": (DEFAULT, DEFAULT), "notes": (CHEAP, DEFAULT)}
    # What the server was asked for is what routing chose, step by step.
    asked = [r.body["model"] for r in openai_server.chat_requests[asked_before:] if r.body]
    assert sorted(asked) == sorted([DEFAULT, CHEAP])

    routed = await _routed_events(api, after["id"])
    assert routed["notes"]["model"] == CHEAP and not routed["notes"]["pinned"]
    assert "cheapest of 2 that may do writer steps" in routed["notes"]["reason"]
    assert "tier 2 (standard) set by an admin" in routed["notes"]["reason"]
    verdicts = {c["model"]: c["verdict"] for c in routed["design"]["considered"]}
    assert verdicts[CHEAP] == "tier 2 (standard), below architect's 3 (frontier)"
    assert verdicts[DEFAULT] == "chosen"
    # Billed at the model it ran on: 500 input and 250 output tokens at gpt-4o-mini's price.
    notes = next(s for s in after["steps"] if s["step_id"] == "notes")
    assert notes["cost_usd"] == pytest.approx((500 * 0.15 + 250 * 0.60) / 1e6)

    # The step's page says where it ran and why; the Costs page what routing saved.
    page = (await api.get(f"/runs/{after['id']}/steps/notes")).text
    route = page[page.index('data-testid="step-route"') :]
    assert "gpt-4o-mini" in route and "instead of gpt-4o" in route
    assert "tier 2 (standard) set by an admin" in route
    costs = (await api.get("/api/v1/costs")).json()["routing"]
    # The same 500 + 250 tokens at gpt-4o's price: $0.00375, against $0.000225.
    assert costs["routed_steps"] == 1
    assert costs["default_cost_usd"] == pytest.approx(0.00375)
    assert costs["saved_usd"] == pytest.approx(0.00375 - 0.000225)
    [writer] = costs["roles"]
    assert (writer["role"], writer["routed_steps"], writer["default_steps"]) == ("writer", 1, 1)
    assert writer["held"] is None  # too few steps to say
    costs_page = (await api.get("/costs")).text
    assert 'data-testid="cost-routing"' in costs_page and "too few steps to say" in costs_page


async def test_a_pin_is_obeyed_and_says_so(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    await api.put(f"/api/v1/models/{CHEAP}", json={"routable": True, "tier": 3})
    spec = {
        "name": "pinned",
        "model": "gpt-4.1",
        "steps": [
            {"id": "a", "agent": "llm:writer", "estimate_tokens": 1000},
            {"id": "b", "agent": "llm:writer", "model": DEFAULT, "estimate_tokens": 1000},
        ],
    }
    done = await _run(api, spec)
    models = {s["step_id"]: s["routed_model"] for s in done["steps"]}
    assert models == {"a": "gpt-4.1", "b": DEFAULT}
    routed = await _routed_events(api, done["id"])
    assert routed["a"]["reason"] == "pinned to gpt-4.1 by its workflow" and routed["a"]["pinned"]
    assert routed["b"]["reason"] == f"pinned to {DEFAULT} by its step"
    assert sorted(r.body["model"] for r in openai_server.chat_requests if r.body) == sorted(
        ["gpt-4.1", DEFAULT]
    )


async def test_a_cap_is_checked_at_the_routed_price(api: httpx2.AsyncClient) -> None:
    # 20,000 tokens of writer work: expected $0.0875 on gpt-4o, $0.00525 on gpt-4o-mini (at
    # most $0.012). A $0.02 cap refuses the run unrouted and admits it routed.
    writer = {"id": "w", "agent": "llm:writer", "estimate_tokens": 20_000}
    spec = {"name": "capped", "steps": [writer]}
    saved = (await api.post("/api/v1/workflows", json=spec)).json()
    refused = await api.post(f"/api/v1/workflows/{saved['id']}/runs", json={"budget_usd": 0.02})
    assert refused.status_code == 202 and refused.json()["status"] == "failed"
    await api.put(f"/api/v1/models/{CHEAP}", json={"routable": True, "tier": 1})
    done = await _run(api, spec, budget_usd=0.02)
    assert done["steps"][0]["routed_model"] == CHEAP and done["spent_usd"] <= 0.02


async def test_a_pin_on_a_step_that_calls_no_model_is_refused_naming_it(
    api: httpx2.AsyncClient,
) -> None:
    spec = {"name": "odd", "steps": [{"id": "c", "agent": "builtin:noop", "model": CHEAP}]}
    refused = await api.post("/api/v1/workflows", json=spec)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "steps.0.model"
    assert (await api.get("/api/v1/workflows")).json() == []


async def test_the_catalogue_refuses_a_viewer_and_bad_input_and_keeps_what_it_had(
    api: httpx2.AsyncClient,
) -> None:
    ctx = api._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    listed = await api.get("/api/v1/models", headers=viewer)
    assert listed.status_code == 200
    first = listed.json()[0]
    assert first["model"] == DEFAULT and first["default"]
    denied = await api.put(f"/api/v1/models/{CHEAP}", json={"routable": True}, headers=viewer)
    assert denied.status_code == 403
    for body, field in [
        ({}, "routable"),
        ({"tier": 4}, "tier"),
        ({"context_tokens": 0}, "context_tokens"),
        ({"routable": True, "secret": "sk-live-abc"}, "secret"),
    ]:
        refused = await api.put(f"/api/v1/models/{CHEAP}", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"]["field"].endswith(field), refused.text
        assert "sk-live-abc" not in refused.text
    for name in ["x" * 201, "bad%00name"]:
        refused = await api.put(f"/api/v1/models/{name}", json={"routable": True})
        assert refused.status_code == 422, refused.text
    deep = {"routable": True, "tier": 1, "context_tokens": {"a": [[[[1]]]]}}
    assert (await api.put(f"/api/v1/models/{CHEAP}", json=deep)).status_code == 422
    entries = {m["model"]: m for m in (await api.get("/api/v1/models")).json()}
    assert not entries[CHEAP]["routable"] and entries[CHEAP]["updated_by"] is None


async def test_two_admins_setting_one_model_at_once_leave_one_entry_with_both_changes(
    api: httpx2.AsyncClient,
) -> None:
    first, second = await asyncio.gather(
        api.put(f"/api/v1/models/{CHEAP}", json={"routable": True}),
        api.put(f"/api/v1/models/{CHEAP}", json={"tier": 1}),
    )
    assert {first.status_code, second.status_code} == {200}
    entry = next(m for m in (await api.get("/api/v1/models")).json() if m["model"] == CHEAP)
    assert entry["routable"] and entry["tier"] == 1


async def test_a_sync_records_what_the_endpoint_offers_and_routing_skips_the_rest(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    # gpt-4.1-nano is cheaper still, but the endpoint lists gpt-4o-mini only.
    for model in ("gpt-4.1-nano", CHEAP):
        await api.put(f"/api/v1/models/{model}", json={"routable": True, "tier": 3})
    openai_server.model = CHEAP
    synced = await api.post("/api/v1/catalogue/sync")
    assert synced.status_code == 200, synced.text
    offered = {m["model"]: m["offered"] for m in synced.json()}
    assert offered[CHEAP] is True and offered["gpt-4.1-nano"] is False
    assert any(r.path.endswith("/models") for r in openai_server.requests)
    done = await _run(api, {"name": "nano", "steps": [{"id": "w", "agent": "llm:writer"}]})
    assert done["steps"][0]["routed_model"] == CHEAP
    routed = await _routed_events(api, done["id"])
    verdicts = {c["model"]: c["verdict"] for c in routed["w"]["considered"]}
    assert verdicts["gpt-4.1-nano"] == "the endpoint did not list it at the last sync"

    ctx = api._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, user="vic", role=Role.VIEWER)
    assert (await api.post("/api/v1/catalogue/sync", headers=viewer)).status_code == 403


async def test_a_sync_against_an_endpoint_that_is_down_is_a_503_naming_it(
    settings: Settings,
) -> None:
    llm = LLMSettings(base_url="http://127.0.0.1:9/v1", model=DEFAULT, timeout_s=2)
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            down = await http.post("/api/v1/catalogue/sync")
    assert down.status_code == 503
    assert "the endpoint's list of models failed" in down.json()["error"]["message"]
