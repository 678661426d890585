"""Tracing as configured by its settings: on through the server, off without an endpoint,
harmless when the collector is unreachable, and the model call's span on failure."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

import missionctl.telemetry.tracing as tracing_module
from missionctl.db.models import Event
from missionctl.errors import LLMUnavailable
from missionctl.llm.openai_client import OpenAICompatibleClient
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.settings import Settings, TracingSettings
from missionctl.telemetry import (
    run_parent,
    run_span_id,
    run_trace_hex,
    start_tracing,
    stop_tracing,
    tracing_enabled,
)
from tests.engine.helpers import running_engine, start, step, wait_for_run
from tests.support.openai_server import HTTPError, ScriptedOpenAIServer
from tests.support.otlp_receiver import OTLPReceiver, blackhole, refused_endpoint


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OTLPReceiver]:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    with OTLPReceiver() as running:
        yield running


class _Recorder:
    def __init__(self) -> None:
        self.made = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.made += 1
        raise AssertionError("no exporter may be created without an endpoint")


async def test_without_an_endpoint_nothing_is_set_up(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(tracing_module, "OTLPSpanExporter", recorder)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert ctx.settings.tracing.traces_endpoint is None
    async with open_runtime(ctx.settings) as runtime:
        assert not tracing_enabled()
        run = await start(ctx, [step("a"), step("b", "builtin:noop", "a")])
        async with running_engine(ctx, agents=runtime.agents) as engine:
            assert engine._tracing is None
            done = await wait_for_run(ctx, run.id)
    assert done.status == "completed" and recorder.made == 0
    async with ctx.read() as session:
        started = await session.scalar(
            select(Event).where(Event.type == "run.started", Event.run_id == run.id)
        )
    assert started is not None and "trace_id" not in started.payload


@pytest.mark.parametrize("collector", ["hangs", "refuses"])
async def test_an_unreachable_collector_neither_fails_nor_holds_up_a_run(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, collector: str
) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2")
    monkeypatch.setattr(tracing_module, "FLUSH_TIMEOUT_S", 1.0)
    with blackhole() as hanging:
        endpoint = hanging if collector == "hangs" else refused_endpoint()
        settings = ctx.settings.model_copy(
            update={"tracing": TracingSettings(otlp_endpoint=endpoint)}
        )
        async with open_runtime(settings) as runtime:
            assert tracing_enabled()
            run = await start(ctx, [step(f"s{i}", "builtin:noop") for i in range(5)])
            async with running_engine(ctx, agents=runtime.agents):
                done = await wait_for_run(ctx, run.id, within_s=10)
            stopping = time.monotonic()
        stopped_in = time.monotonic() - stopping
    assert done.status == "completed"
    assert not tracing_enabled()
    # The flush gives up after FLUSH_TIMEOUT_S (1 s here), however the collector behaves.
    assert stopped_in < 1.0 + 2.0, stopped_in


class Answer(BaseModel):
    text: str


async def test_a_failed_model_call_is_traced_with_its_error_type_and_no_secret(
    openai_server: ScriptedOpenAIServer, receiver: OTLPReceiver
) -> None:
    openai_server.push(HTTPError(401, message="invalid key sk-call-secret"))
    start_tracing(f"{receiver.endpoint}/v1/traces")
    try:
        parent = run_parent(uuid.uuid4())
        from opentelemetry import context as otel_context

        token = otel_context.attach(parent)
        try:
            async with OpenAICompatibleClient(
                base_url=openai_server.base_url,
                api_key="sk-call-secret",
                model="m-1",
                timeout_s=5,
                max_retries=0,
            ) as llm:
                with pytest.raises(LLMUnavailable):
                    await llm.generate_structured(
                        system="be brief",
                        user="the secret plan",
                        output_model=Answer,
                        schema_name="answer",
                        max_tokens=900,
                    )
        finally:
            otel_context.detach(token)
    finally:
        stop_tracing()
    [call] = receiver.spans
    assert call.name == "chat m-1"
    assert call.status_code == 2  # STATUS_CODE_ERROR
    assert call.attributes["error.type"] == "401"
    assert call.attributes["gen_ai.request.model"] == "m-1"
    assert call.attributes["gen_ai.request.max_tokens"] > 0
    assert "gen_ai.usage.input_tokens" not in call.attributes
    assert call.trace_id == trace_hex_of(parent)
    text = repr(call)
    assert "sk-call-secret" not in text and "secret plan" not in text and "brief" not in text


def trace_hex_of(parent: Any) -> str:
    from opentelemetry import trace

    return trace.format_trace_id(trace.get_current_span(parent).get_span_context().trace_id)


def test_a_runs_trace_id_is_a_function_of_its_id_alone() -> None:
    # Pinned: every process, of any version, must derive the same ids (ADR 0045).
    run_id = uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057")
    assert run_trace_hex(run_id) == "4f0f4db07e3a47ec73cdfec0aa86360c"
    assert f"{run_span_id(run_id):016x}" == "43dede2288915b2a"
    assert run_trace_hex(uuid.UUID(int=run_id.int + 1)) != run_trace_hex(run_id)


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4318", "http:// or https:// URL"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector/v1/traces", "OTLP/HTTP"),
        ("MISSIONCTL_TRACE_URL", "https://tracing.example.com/trace/", "{trace_id}"),
        ("MISSIONCTL_TRACE_URL", "https://t.example.com/{trace_id}/{span_id}", "no other"),
        ("MISSIONCTL_TRACE_URL", "javascript:alert(1)//{trace_id}", "http:// or https://"),
    ],
)
def test_bad_tracing_settings_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        TracingSettings()
    assert words in str(raised.value)


def test_the_settings_choose_the_traces_endpoint_and_hide_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://user:pw-secret@collector:4318/")
    settings = Settings()
    assert settings.tracing.traces_endpoint == "https://user:pw-secret@collector:4318/v1/traces"
    assert "pw-secret" not in str(settings.masked())
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/traces")
    assert TracingSettings().traces_endpoint == "http://other:4318/traces"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert TracingSettings().traces_endpoint is None
