"""The server with tracing configured: its engine's spans reach an OTLP/HTTP receiver, run.started
carries the run's trace id, and the run page links to the trace."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from missionctl.settings import Settings, TracingSettings
from missionctl.telemetry import run_span_id, run_trace_hex
from tests.support.otlp_receiver import OTLPReceiver

TRACE_URL = "https://tracing.example.com/trace/{trace_id}"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OTLPReceiver]:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    with OTLPReceiver() as running:
        yield running


@pytest.fixture
def settings(settings: Settings, receiver: OTLPReceiver) -> Settings:
    """The suite's settings, traced to the receiver, with the run page's link to traces."""
    tracing = TracingSettings(url=TRACE_URL, otlp_endpoint=receiver.endpoint)
    return settings.model_copy(update={"tracing": tracing})


async def _wait(client: httpx2.AsyncClient, url: str, within_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while (body := (await client.get(url)).json())["status"] != "completed":
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)
    result: dict[str, Any] = body
    return result


async def test_the_server_traces_its_runs_and_links_the_run_page_to_the_trace(
    client: httpx2.AsyncClient, receiver: OTLPReceiver
) -> None:
    definition = {
        "name": "traced",
        "steps": [
            {"id": "first", "agent": "builtin:noop"},
            {"id": "second", "agent": "builtin:noop", "depends_on": ["first"]},
        ],
    }
    saved = await client.post("/api/v1/workflows", json=definition)
    assert saved.status_code == 201, saved.text
    started = await client.post(f"/api/v1/workflows/{saved.json()['id']}/runs", json={})
    run_id = uuid.UUID(started.json()["id"])
    await _wait(client, f"/api/v1/runs/{run_id}")
    trace_id = run_trace_hex(run_id)

    spans = await asyncio.to_thread(
        receiver.wait_for,
        lambda got: (
            {s.name for s in got if s.trace_id == trace_id} >= {"run", "step first", "step second"}
        ),
    )
    root = next(s for s in spans if s.name == "run")
    assert root.span_id == f"{run_span_id(run_id):016x}"
    assert {s.parent_span_id for s in spans if s.name.startswith("step ")} == {root.span_id}

    page = await client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert f'href="https://tracing.example.com/trace/{trace_id}"' in page.text
    events = (await client.get(f"/api/v1/runs/{run_id}/events")).json()
    [run_started] = [e for e in events["items"] if e["type"] == "run.started"]
    assert run_started["payload"]["trace_id"] == trace_id
