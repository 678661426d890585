"""A mission run by a model, traced: the spans reach a real OTLP/HTTP receiver on 127.0.0.1.

The model is the scripted OpenAI-compatible server, called through the real openai SDK; the
spans go through the real OTLP/HTTP exporter to ``tests/support/otlp_receiver.py``.
"""

import asyncio
import dataclasses
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission, run_mission
from missionctl.settings import TracingSettings
from missionctl.telemetry import run_span_id, run_trace_hex, tracing_enabled
from tests.e2e.test_llm_mission import GOAL, MODEL, _with_model, answer_mission_call
from tests.engine.helpers import running_engine, wait_for_run
from tests.support.openai_server import ScriptedOpenAIServer
from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan

SECRET = "sk-e2e-secret"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OTLPReceiver]:
    # Batches leave every 50 ms, so a test can wait for a span instead of for the 5 s default.
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "mc-under-test")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
    with OTLPReceiver() as running:
        yield running


def _traced(ctx: ServiceContext, endpoint: str) -> ServiceContext:
    tracing = TracingSettings(otlp_endpoint=endpoint)
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"tracing": tracing}))


def _all_text(spans: list[ReceivedSpan]) -> str:
    return json.dumps([[s.name, s.attributes, s.resource] for s in spans], default=str)


async def test_a_traced_mission_exports_run_step_and_model_call_spans(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, receiver: OTLPReceiver
) -> None:
    openai_server.default_handler = answer_mission_call
    mctx = _traced(_with_model(ctx, openai_server), receiver.endpoint)
    async with open_runtime(mctx.settings) as runtime:
        assert tracing_enabled()
        mission = await create_mission(mctx, data=MissionCreate(goal=GOAL), actor="user:test")
        await plan_mission(mctx, mission_id=mission.id, actor="user:test", planner=runtime.planner)
        run = await run_mission(mctx, mission_id=mission.id, actor="user:test")
        trace_id = run_trace_hex(run.id)
        async with running_engine(mctx, agents=runtime.agents):
            done = await wait_for_run(mctx, run.id, within_s=60)
            # The run span is emitted when the engine hears the run end.
            await asyncio.to_thread(
                receiver.wait_for, lambda spans: any(s.name == "run" for s in spans)
            )
    assert not tracing_enabled()  # the runtime's end stopped tracing, after flushing
    assert done.status == "completed"

    in_run = [s for s in receiver.spans if s.trace_id == trace_id]
    roots = [s for s in in_run if s.name == "run"]
    assert len(roots) == 1, [s.name for s in in_run]
    root = roots[0]
    assert root.parent_span_id == "" and root.span_id == f"{run_span_id(run.id):016x}"
    assert root.attributes["missionctl.run.id"] == str(run.id)
    assert root.attributes["missionctl.run.status"] == "completed"
    assert root.resource["service.name"] == "mc-under-test"
    assert root.resource["deployment.environment.name"] == "test"

    steps = [s for s in in_run if s.name.startswith("step ")]
    assert sorted(s.attributes["missionctl.step.id"] for s in steps) == sorted(
        s.step_id for s in done.steps
    )
    by_step = {s.step_id: s for s in done.steps}
    for span in steps:
        assert span.parent_span_id == root.span_id
        stored = by_step[span.attributes["missionctl.step.id"]]
        assert span.attributes["missionctl.run.id"] == str(run.id)
        assert span.attributes["missionctl.step.attempt"] == stored.attempt
        assert span.attributes["missionctl.agent"] == stored.agent
        assert span.attributes["missionctl.step.status"] == "succeeded"
        assert span.attributes["missionctl.step.input_tokens"] == 500
        assert span.attributes["missionctl.step.output_tokens"] == 250
        assert span.attributes["missionctl.step.cost_micros"] > 0
        assert root.start_ns <= span.start_ns <= span.end_ns <= root.end_ns

    calls = [s for s in in_run if s.name.startswith("chat ")]
    assert len(calls) == len(steps)  # one model call under each LLM step
    step_ids = {s.span_id for s in steps}
    for call in calls:
        assert call.name == f"chat {MODEL}"
        assert call.parent_span_id in step_ids
        assert call.kind == 3  # SPAN_KIND_CLIENT
        attrs = call.attributes
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "openai" == attrs["gen_ai.system"]
        assert attrs["gen_ai.request.model"] == MODEL
        assert attrs["gen_ai.response.model"] == MODEL  # the server answers with the model asked
        assert attrs["gen_ai.usage.input_tokens"] == 500
        assert attrs["gen_ai.usage.output_tokens"] == 250
        assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
        assert attrs["server.address"] == "127.0.0.1"
        assert "error.type" not in attrs

    # The plan call ran outside any run: a trace of its own.
    planning = [s for s in receiver.spans if s.name.startswith("chat ") and s not in in_run]
    assert len(planning) == 1 and planning[0].parent_span_id == ""

    # Neither the key nor a word of any prompt or reply is exported.
    exported = _all_text(receiver.spans)
    assert SECRET not in exported
    assert "URL shortener" not in exported and "Alias squatting" not in exported

    async with ctx.read() as session:
        started = await session.scalar(
            select(Event).where(Event.type == "run.started", Event.run_id == run.id)
        )
    assert started is not None and started.payload["trace_id"] == trace_id
