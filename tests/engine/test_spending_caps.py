"""Spending caps per agent and per UTC day hold steps at dispatch, with no model call made.

Through the API, with the embedded engine running the real ``llm:`` agent against the scripted
OpenAI-compatible server on 127.0.0.1 (the real ``openai`` SDK in between). The model is priced
at $600 per million tokens in and out, so each scripted call (500 tokens in, 250 out) costs
$0.45, and a step limited to 1,000 tokens may cost up to $0.60 (its reserve).
"""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from missionctl.app import create_app
from missionctl.db.clock import MovedClock, moved_clock
from missionctl.schemas.prices import PriceSet
from missionctl.schemas.spending_caps import SpendingCapSet
from missionctl.services import open_context
from missionctl.services.usecases.execution import DagCache, ticks
from missionctl.services.usecases.pricing import set_price
from missionctl.services.usecases.spending_caps import set_cap
from missionctl.settings import HttpAgentSettings, LLMSettings, Settings
from tests.e2e.test_llm_mission import answer_mission_call
from tests.engine.helpers import poll_json, start, step
from tests.support.auth import bearer_headers
from tests.support.openai_server import ScriptedOpenAIServer
from tests.webhooks.receiver import Receiver, receiving

MODEL = "gpt-4o-mini"
CALL_MICROS = 450_000  # what one scripted call costs
PRICE = {"input_usd_per_mtok": "600", "output_usd_per_mtok": "600"}


@pytest.fixture
def clock() -> Iterator[MovedClock]:
    """The application's clock, standing at 23:59 UTC until the test moves it."""
    with moved_clock(datetime(2026, 11, 27, 23, 59, tzinfo=UTC)) as moved:
        yield moved


@pytest.fixture
async def api(
    settings: Settings, openai_server: ScriptedOpenAIServer, clock: MovedClock
) -> AsyncIterator[httpx2.AsyncClient]:
    """The API and its engine, the model served by the scripted server, loopback webhooks."""
    openai_server.default_handler = answer_mission_call
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-test"), model=MODEL, timeout_s=10
    )
    hooks = HttpAgentSettings(allowed_networks=["127.0.0.1/32"])
    app = create_app(settings.model_copy(update={"llm": llm, "http_agent": hooks}))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            assert (await http.put(f"/api/v1/prices/{MODEL}", json=PRICE)).status_code == 200
            yield http


async def _start(api: httpx2.AsyncClient, name: str, agents: list[str], tokens: int = 1000) -> str:
    """Start a run of one step per agent limited to ``tokens``, one after the other; its URL."""
    steps: list[dict[str, Any]] = []
    for index, agent in enumerate(agents):
        step: dict[str, Any] = {"id": f"s{index}", "agent": agent, "estimate_tokens": tokens}
        if steps:
            step["depends_on"] = [steps[-1]["id"]]
        steps.append(step)
    saved = await api.post("/api/v1/workflows", json={"name": name, "steps": steps})
    assert saved.status_code == 201, saved.text
    started = await api.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
    assert started.status_code == 202, started.text
    return f"/api/v1/runs/{started.json()['id']}"


def _held(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in run["steps"] if s["status"] == "queued" and s["hold_reason"]]


async def _events(api: httpx2.AsyncClient, kind: str) -> list[dict[str, Any]]:
    page = (await api.get("/api/v1/events", params={"type": kind, "limit": 100})).json()
    items: list[dict[str, Any]] = page["items"] if isinstance(page, dict) else page
    return items


async def test_a_per_agent_cap_holds_its_step_with_no_model_call_until_an_admin_raises_it(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer
) -> None:
    cap = {"agent": "llm:writer", "period": "day", "cap_usd": "0.50"}
    assert (await api.put("/api/v1/spending-caps", json=cap)).status_code == 200
    url = await _start(api, "writer-capped", ["llm:architect", "llm:writer"])

    run = await poll_json(api, url, lambda r: bool(_held(r)))
    [held] = _held(run)
    assert held["step_id"] == "s1" and run["status"] == "running"
    reason = held["hold_reason"]
    assert "llm:writer per UTC day ($0.50)" in reason
    assert "$0.50 left" in reason and "may cost up to $0.60" in reason
    assert "2026-11-28 00:00 UTC" in reason and "an admin may raise it" in reason
    # The architect's step ran (no cap governs it); the writer's never called the model.
    assert len(openai_server.chat_requests) == 1
    await asyncio.sleep(0.3)  # several engine ticks: still held, still one call
    assert len(openai_server.chat_requests) == 1
    [listed] = (await api.get("/api/v1/spending-caps")).json()
    assert listed["held_steps"] == 1 and listed["level"] == "reached"
    [reached] = await _events(api, "spending_cap.reached")
    assert reached["payload"]["agent"] == "llm:writer" and reached["step_id"] == "s1"

    raised = await api.put("/api/v1/spending-caps", json={**cap, "cap_usd": "10"})
    assert raised.status_code == 200 and raised.json()["held_steps"] == 0
    done = await poll_json(api, url, lambda r: r["status"] != "running")
    assert done["status"] == "completed", json.dumps(done)[:3000]
    assert len(openai_server.chat_requests) == 2
    [released] = await _events(api, "step.released")
    assert released["payload"]["why"] == "cap"


async def test_a_daily_cap_warns_at_80_percent_holds_and_opens_again_after_utc_midnight(
    api: httpx2.AsyncClient, openai_server: ScriptedOpenAIServer, clock: MovedClock
) -> None:
    with receiving() as receiver:
        hook = {"url": receiver.url, "events": ["spending_cap.warning"]}
        assert (await api.post("/api/v1/webhooks", json=hook)).status_code == 201
        # Every agent's spending counts: a 900-token step fits ($0.54), its $0.45 is 82 %.
        cap = {"agent": "*", "period": "day", "cap_usd": "0.55"}
        assert (await api.put("/api/v1/spending-caps", json=cap)).status_code == 200
        url = await _start(api, "daily", ["llm:architect", "llm:writer"], tokens=900)

        run = await poll_json(api, url, lambda r: bool(_held(r)))
        assert [s["step_id"] for s in _held(run)] == ["s1"]
        assert "all agents per UTC day" in _held(run)[0]["hold_reason"]
        assert len(openai_server.chat_requests) == 1
        warning = await _delivered(receiver, "spending_cap.warning")
        assert warning["payload"]["spent_micros"] == CALL_MICROS
        assert warning["payload"]["share"] == pytest.approx(CALL_MICROS / 550_000, abs=1e-4)

        clock.move_to(datetime(2026, 11, 28, 0, 0, 30, tzinfo=UTC))  # a new UTC day
        done = await poll_json(api, url, lambda r: r["status"] != "running")
    assert done["status"] == "completed", json.dumps(done)[:3000]
    assert len(openai_server.chat_requests) == 2
    [released] = await _events(api, "step.released")
    assert released["payload"]["why"] == "period"
    [listed] = (await api.get("/api/v1/spending-caps")).json()
    assert listed["period_start"] == "2026-11-28"
    assert listed["spent_usd"] == pytest.approx(CALL_MICROS / 1e6)
    assert listed["level"] == "warning"  # the new day's step spent 82 % of it again
    assert len(await _events(api, "spending_cap.warning")) == 2  # once on each day


async def _delivered(receiver: Receiver, kind: str, within_s: float = 20) -> dict[str, Any]:
    """The first delivery of ``kind`` the receiver got, as JSON."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for request in list(receiver.requests):
            body = json.loads(request.body)
            if body.get("type") == kind:
                return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} delivery in {within_s} s")


async def test_two_engines_claiming_at_once_never_reserve_past_a_cap(
    settings: Settings, clock: MovedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second engine's claim waits for the first's to commit, then reads its reserves.

    Four runs, each with one $0.60 step; a $1.30 cap fits two reserves, not three. The first
    engine claims the two runs there are and keeps its transaction open; two more runs start,
    and the second engine claims them meanwhile (their runs are not locked by the first).
    """
    llm = LLMSettings(base_url="http://127.0.0.1:9/v1", api_key=SecretStr("sk-test"), model=MODEL)
    configured = settings.model_copy(update={"llm": llm})
    async with open_context(configured) as ctx:
        if ctx.db.dialect == "sqlite":
            pytest.skip("SQLite's writers take turns: there is no concurrent claim to wait for")
        price = PriceSet(model=MODEL, input_usd_per_mtok=600, output_usd_per_mtok=600)
        await set_price(ctx, data=price, actor="user:admin")
        cap = SpendingCapSet(agent="*", period="day", cap_usd="1.30")
        await set_cap(ctx, data=cap, actor="user:admin")
        writer = [step("write", "llm:writer", estimate_tokens=1000)]
        for _ in range(2):
            await start(ctx, writer)
        first_claimed, second_claiming = threading.Event(), threading.Event()
        claim = ticks.claim

        def interleaved(session: Session, state: Any, dispatch: Any, dags: DagCache) -> None:
            if dispatch.worker == "second":
                second_claiming.set()
                claim(session, state, dispatch, dags)
                return
            claim(session, state, dispatch, dags)
            first_claimed.set()
            if second_claiming.wait(timeout=2):
                time.sleep(0.5)  # the second claim reads the caps now, before this commits

        monkeypatch.setattr(ticks, "claim", interleaved)
        async with open_context(configured) as other:
            first = asyncio.create_task(_claims(ctx, "first"))
            await asyncio.to_thread(first_claimed.wait, 5)
            for _ in range(2):
                await start(other, writer)
            second = await _claims(other, "second")
            claimed = await first + second
    assert len(claimed) == 2, [c.step_run_id for c in claimed]


async def _claims(ctx: Any, worker: str) -> list[Any]:
    """The steps one tick of ``worker`` claims (up to four)."""
    return await ticks.tick(
        ctx, worker=worker, outcomes=[], logs=[], capacity=4, lease_s=30, dags=DagCache()
    )
