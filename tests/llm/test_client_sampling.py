"""Temperature and seed: sent as set (settings, then per call), absent when unset, recorded.

Through the real openai SDK against the scripted OpenAI-compatible server on 127.0.0.1: what
the server received is the proof of what was sent.
"""

import asyncio
import json
from typing import Any

import pytest
from pydantic import SecretStr

from missionctl.domain.sampling import MAX_SEED
from missionctl.llm import OpenAICompatibleClient, Sampling
from missionctl.llm.tracing import _request_attributes
from missionctl.settings import LLMSettings
from tests.llm.helpers import API_KEY, MODEL, VALID_PLAN, MakeClient, Plan, ask
from tests.support.openai_server import Content, ScriptedOpenAIServer


def _settings(server: ScriptedOpenAIServer, **knobs: Any) -> LLMSettings:
    return LLMSettings(
        base_url=server.base_url,
        api_key=SecretStr(API_KEY),
        model=MODEL,
        timeout_s=5,
        **knobs,
    )


async def test_the_settings_knobs_are_sent_and_recorded(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.push(VALID_PLAN)
    settings = _settings(openai_server, temperature=0.3, seed=MAX_SEED)
    async with OpenAICompatibleClient.from_settings(settings) as client:
        assert client.sampling == Sampling(temperature=0.3, seed=MAX_SEED)
        result = await ask(client)
    (request,) = openai_server.chat_requests
    assert request.body is not None
    assert request.body["temperature"] == 0.3 and request.body["seed"] == MAX_SEED
    assert result.sampling == Sampling(temperature=0.3, seed=MAX_SEED)
    assert result.sampling.record() == {"temperature": 0.3, "seed": MAX_SEED}


@pytest.mark.parametrize("stream", [False, True])
async def test_unset_knobs_are_not_sent_at_all(
    openai_server: ScriptedOpenAIServer, stream: bool
) -> None:
    openai_server.push(VALID_PLAN)
    settings = _settings(openai_server)
    async with OpenAICompatibleClient.from_settings(settings, stream=stream) as client:
        result = await ask(client)
    (request,) = openai_server.chat_requests
    assert request.body is not None and request.stream is stream
    # Absent, not null: a server that refuses keys it does not know is not troubled.
    assert "temperature" not in request.body and "seed" not in request.body
    assert result.sampling.record() == {"temperature": None, "seed": None}


@pytest.mark.parametrize("stream", [False, True])
async def test_a_calls_knobs_override_the_clients_one_by_one(
    make_client: MakeClient, openai_server: ScriptedOpenAIServer, stream: bool
) -> None:
    # The first reply breaks the schema: the repair request is sent with the same knobs.
    openai_server.push('{"title": 3}', VALID_PLAN)
    client = make_client(stream=stream, sampling=Sampling(temperature=0.2, seed=11))
    result = await client.generate_structured(
        system="You are a planner.",
        user="Plan it",
        output_model=Plan,
        schema_name="plan",
        sampling=Sampling(temperature=1.5),
    )
    bodies = [r.body or {} for r in openai_server.chat_requests]
    assert len(bodies) == 2 and result.attempts == 2
    assert [(b["temperature"], b["seed"]) for b in bodies] == [(1.5, 11), (1.5, 11)]
    assert result.sampling == Sampling(temperature=1.5, seed=11)


async def test_zero_is_sent_not_taken_for_unset(
    make_client: MakeClient, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.push(VALID_PLAN)
    client = make_client(sampling=Sampling(temperature=1.0, seed=5))
    await client.generate_structured(
        system="s",
        user="u",
        output_model=Plan,
        schema_name="plan",
        sampling=Sampling(temperature=0.0, seed=0),
    )
    body = openai_server.chat_requests[0].body or {}
    assert body["temperature"] == 0 and body["seed"] == 0


async def test_concurrent_calls_each_send_their_own_knobs(
    make_client: MakeClient, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = lambda body: Content(VALID_PLAN)
    client = make_client(sampling=Sampling(seed=1))

    async def call(temperature: float) -> Sampling:
        result = await client.generate_structured(
            system="s",
            user=f"temperature {temperature}",
            output_model=Plan,
            schema_name="plan",
            sampling=Sampling(temperature=temperature),
        )
        return result.sampling

    got = await asyncio.gather(*(call(t) for t in (0.1, 0.9, 1.7)))
    assert [s.temperature for s in got] == [0.1, 0.9, 1.7]
    sent = {
        json.dumps(r.messages[-1]["content"]): (r.body or {}).get("temperature")
        for r in openai_server.chat_requests
    }
    assert sent == {json.dumps(f"temperature {t}"): t for t in (0.1, 0.9, 1.7)}


@pytest.mark.parametrize(
    "sampling",
    [
        Sampling(temperature=2.01),
        Sampling(temperature=-0.1),
        Sampling(temperature=float("nan")),
        Sampling(temperature=float("inf")),
        Sampling(seed=-1),
        Sampling(seed=MAX_SEED + 1),
    ],
)
async def test_knobs_out_of_range_are_refused_before_anything_is_sent(
    make_client: MakeClient, openai_server: ScriptedOpenAIServer, sampling: Sampling
) -> None:
    with pytest.raises(ValueError, match=r"temperature|seed"):
        make_client(sampling=sampling)
    client = make_client()
    with pytest.raises(ValueError, match=r"temperature|seed"):
        await client.generate_structured(
            system="s", user="u", output_model=Plan, schema_name="plan", sampling=sampling
        )
    assert openai_server.chat_requests == []


def test_the_span_records_the_knobs_sent_and_leaves_out_those_not_sent() -> None:
    sent = _request_attributes("m", "http://127.0.0.1:9/v1", None, Sampling(0.4, 99))
    assert sent["gen_ai.request.temperature"] == 0.4 and sent["gen_ai.request.seed"] == 99
    unsent = _request_attributes("m", "http://127.0.0.1:9/v1", None, Sampling())
    assert not {"gen_ai.request.temperature", "gen_ai.request.seed"} & set(unsent)


def test_the_settings_read_the_knobs_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MISSIONCTL_LLM_TEMPERATURE", "0.7")
    monkeypatch.setenv("MISSIONCTL_LLM_SEED", "42")
    assert (LLMSettings().temperature, LLMSettings().seed) == (0.7, 42)
    monkeypatch.setenv("MISSIONCTL_LLM_TEMPERATURE", "")  # empty means unset
    monkeypatch.delenv("MISSIONCTL_LLM_SEED")
    assert (LLMSettings().temperature, LLMSettings().seed) == (None, None)
    for name, value in [
        ("TEMPERATURE", "2.5"),
        ("TEMPERATURE", "-0.1"),
        ("TEMPERATURE", "nan"),
        ("TEMPERATURE", "1e400"),
        ("TEMPERATURE", "warm"),
        ("SEED", "-1"),
        ("SEED", str(MAX_SEED + 1)),
        ("SEED", "1.5"),
    ]:
        monkeypatch.setenv(f"MISSIONCTL_LLM_{name}", value)
        with pytest.raises(ValueError, match=name.lower()):
            LLMSettings()
        monkeypatch.delenv(f"MISSIONCTL_LLM_{name}")
