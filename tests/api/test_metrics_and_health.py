"""Prometheus metrics at /metrics and the health summary, through the app on both databases.

The run goes through the embedded engine and the real ``llm:`` agent against the scripted
OpenAI-compatible server on 127.0.0.1, so the figures are the ones a real run produces.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.settings import LLMSettings, Settings
from tests.conftest import free_port
from tests.e2e.test_llm_mission import answer_mission_call
from tests.support.auth import bearer_headers
from tests.support.openai_server import ScriptedOpenAIServer
from tests.web.test_approvals_page import gated_run

MODEL = "gpt-4o-mini"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def llm_app(settings: Settings, openai_server: ScriptedOpenAIServer) -> AsyncIterator[Any]:
    """The app and its engine, with the model served by the scripted server."""
    llm = LLMSettings(
        base_url=openai_server.base_url, api_key=SecretStr("sk-test"), model=MODEL, timeout_s=10
    )
    app = create_app(settings.model_copy(update={"llm": llm}))
    async with app.router.lifespan_context(app):
        yield app


async def _finished(http: httpx2.AsyncClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        run = (await http.get(f"/api/v1/runs/{run_id}")).json()
        if run["status"] not in ("pending", "running"):
            return run
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)


async def test_metrics_after_a_real_run_match_the_run(
    llm_app: Any, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answer_mission_call
    transport = httpx2.ASGITransport(app=llm_app)
    admin = await bearer_headers(llm_app.state.ctx)
    viewer = await bearer_headers(llm_app.state.ctx, "scraper", Role.VIEWER)
    async with httpx2.AsyncClient(transport=transport, base_url="http://t", headers=admin) as http:
        before = samples((await http.get("/metrics", headers=viewer)).text)
        spec = {
            "name": "measured",
            "steps": [
                {"id": "api", "agent": "llm:architect"},
                {"id": "docs", "agent": "llm:writer", "depends_on": ["api"]},
                {"id": "done", "agent": "builtin:noop", "depends_on": ["docs"]},
            ],
        }
        saved = await http.post("/api/v1/workflows", json=spec)
        started = await http.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
        run = await _finished(http, started.json()["id"])
        assert run["status"] == "completed", run
        response = await http.get("/metrics", headers=viewer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    # Gauges read from this test's own database at scrape time.
    assert value(after, "missionctl_steps", status="succeeded") == 3
    assert value(after, "missionctl_runs", status="completed") == 1
    assert value(after, "missionctl_queue_depth") == 0
    assert value(after, "missionctl_workers_alive") == 1
    assert value(after, "missionctl_live_subscribers") >= 1  # the engine's own subscription

    # Counters of this process: what the run added.
    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert added("missionctl_tokens_total", model=MODEL, direction="input") == run["input_tokens"]
    assert added("missionctl_tokens_total", model=MODEL, direction="output") == run["output_tokens"]
    assert run["input_tokens"] == 1000  # 500 per call (the scripted usage)
    assert added("missionctl_cost_usd_total", model=MODEL) == pytest.approx(run["spent_usd"])
    for agent in ("llm:architect", "llm:writer", "builtin:noop"):
        count = "missionctl_step_duration_seconds_count"
        assert added(count, agent=agent, outcome="succeeded") == 1, agent
    assert added("missionctl_llm_request_duration_seconds_count", model=MODEL) == 2
    assert added("missionctl_events_appended_total") >= 10


async def test_a_failing_model_counts_errors_by_kind(
    llm_app: Any, openai_server: ScriptedOpenAIServer
) -> None:
    from tests.support.openai_server import HTTPError

    openai_server.default_handler = lambda body: HTTPError(401, "bad key")
    transport = httpx2.ASGITransport(app=llm_app)
    admin = await bearer_headers(llm_app.state.ctx)
    async with httpx2.AsyncClient(transport=transport, base_url="http://t", headers=admin) as http:
        before = samples((await http.get("/metrics")).text)
        spec = {"name": "refused", "steps": [{"id": "api", "agent": "llm:architect"}]}
        saved = await http.post("/api/v1/workflows", json=spec)
        started = await http.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
        run = await _finished(http, started.json()["id"])
        after = samples((await http.get("/metrics")).text)
    assert run["status"] == "failed"
    errors = "missionctl_llm_request_errors_total"
    labels = {"model": MODEL, "kind": "http_401"}
    assert value(after, errors, **labels) - value(before, errors, **labels) >= 1
    failed = "missionctl_step_duration_seconds_count"
    assert value(after, failed, agent="llm:architect", outcome="failed") > value(
        before, failed, agent="llm:architect", outcome="failed"
    )


async def test_metrics_need_a_token_on_the_main_address(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as http:
            # A browser asking for a page gets the same 401, not a redirect to sign in.
            for accept in ("*/*", "text/html"):
                refused = await http.get("/metrics", headers={"accept": accept})
                assert refused.status_code == 401, accept
                assert refused.json()["error"]["code"] == "not_authenticated"
                assert refused.headers["www-authenticate"].startswith("Bearer")
            bad = await http.get("/metrics", headers={"Authorization": "Bearer mc_nope"})
            assert bad.status_code == 401
            viewer = await bearer_headers(app.state.ctx, "lowest", Role.VIEWER)
            allowed = await http.get("/metrics", headers=viewer)
            assert allowed.status_code == 200
            assert "missionctl_runs" in allowed.text


async def test_the_metrics_address_answers_scrapers_without_a_token(settings: Settings) -> None:
    address = f"127.0.0.1:{free_port()}"
    app = create_app(settings.model_copy(update={"metrics_address": address}))
    async with app.router.lifespan_context(app), httpx2.AsyncClient() as http:
        scraped = await http.get(f"http://{address}/metrics")
        assert scraped.status_code == 200
        names = {family.name for family in text_string_to_metric_families(scraped.text)}
        assert {"missionctl_runs", "missionctl_steps", "missionctl_queue_depth"} <= names
        assert "missionctl_events_appended" in names
        # That address serves nothing else.
        for path in ("/api/v1/missions", "/missions", "/healthz", "/docs", "/openapi.json"):
            assert (await http.get(f"http://{address}{path}")).status_code == 404, path
    # The listener stops with the app.
    with pytest.raises(httpx2.ConnectError):
        async with httpx2.AsyncClient() as http:
            await http.get(f"http://{address}/metrics")


def test_a_malformed_metrics_address_is_refused_naming_the_setting() -> None:
    for bad in ("9464", "localhost", "host:0", "host:99999", ":9464", "host:port"):
        with pytest.raises(ValueError, match="metrics_address"):
            Settings(metrics_address=bad)
    assert Settings(metrics_address="[::1]:9464").metrics_address == "[::1]:9464"
    assert Settings(metrics_address="  ").metrics_address is None


async def test_the_health_summary_counts_what_waits_fails_and_runs(
    client: httpx2.AsyncClient,
) -> None:
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    await gated_run(ctx)  # waits for an approver at once
    spec = {"name": "broken", "steps": [{"id": "boom", "agent": "builtin:fail"}]}
    saved = await client.post("/api/v1/workflows", json=spec)
    started = await client.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
    await _finished(client, started.json()["id"])
    deadline = time.monotonic() + 10
    while True:  # the figures are kept a second
        summary = (await client.get("/api/v1/health/summary")).json()
        if summary["failed_24h"] == 1 and summary["approvals_waiting"] == 1:
            break
        assert time.monotonic() < deadline, summary
        await asyncio.sleep(0.2)
    assert summary["queued"] == 0 and summary["running"] == 0
    assert summary["workers_alive"] == 1  # the embedded engine
    assert summary["burn_usd_per_hour"] == 0
    assert set(summary) == {
        "queued",
        "running",
        "failed_24h",
        "burn_usd_per_hour",
        "approvals_waiting",
        "workers_alive",
        "caps_warning",
        "caps_reached",
        "as_of",
    }
    assert summary["caps_warning"] == summary["caps_reached"] == 0  # no spending caps set
    workers = (await client.get("/api/v1/workers")).json()
    assert [(w["kind"], w["alive"]) for w in workers] == [("embedded", True)]


async def test_the_health_summary_is_read_once_a_second_for_every_caller(
    client: httpx2.AsyncClient,
) -> None:
    answers = await asyncio.gather(*(client.get("/api/v1/health/summary") for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    # Twenty callers at once shared one read: one moment.
    assert len({a.json()["as_of"] for a in answers}) == 1
    anonymous = await client.get("/api/v1/health/summary", headers={"Authorization": ""})
    assert anonymous.status_code == 401
