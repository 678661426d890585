"""The scripted server itself speaks the wire protocol the SDK expects."""

import json
from collections.abc import AsyncIterator

import httpx2
import openai
import pytest

from tests.support.openai_server import Content, HTTPError, ScriptedOpenAIServer, Usage


@pytest.fixture
async def sdk(openai_server: ScriptedOpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0)
    yield client
    await client.close()


async def test_models_lists_the_scripted_model(
    openai_server: ScriptedOpenAIServer, sdk: openai.AsyncOpenAI
) -> None:
    page = await sdk.models.list()

    assert [m.id async for m in page] == [openai_server.model]
    assert openai_server.requests[-1].path == "/v1/models"
    assert openai_server.chat_requests == []


async def test_plain_completion_round_trips_through_the_sdk(
    openai_server: ScriptedOpenAIServer, sdk: openai.AsyncOpenAI
) -> None:
    openai_server.push(Content("hello", usage=Usage(3, 1, cached_tokens=2), finish_reason="length"))

    completion = await sdk.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )

    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "hello"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 4
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 2


async def test_stream_without_include_usage_sends_no_usage_chunk(
    openai_server: ScriptedOpenAIServer, sdk: openai.AsyncOpenAI
) -> None:
    openai_server.push(Content("abcdef", chunks=3))

    stream = await sdk.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async with stream:
        chunks = [chunk async for chunk in stream]

    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "abcdef"
    assert [c.usage for c in chunks] == [None] * len(chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_raw_sse_ends_with_usage_then_done(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.push(Content("xy", usage=Usage(5, 2)))
    body = {
        "model": "m",
        "messages": [],
        "stream": True,
        "stream_options": {"include_usage": True},
    }

    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{openai_server.base_url}/chat/completions", json=body)

    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line[len("data: ") :] for line in response.text.splitlines() if line]
    assert events[-1] == "[DONE]"
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["total_tokens"] == 7


async def test_errors_carry_an_openai_error_body_and_retry_after(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.push(HTTPError(429, "slow down", retry_after="7", error_type="rate_limit"))

    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{openai_server.base_url}/chat/completions", json={})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["message"] == "slow down"
    assert response.json()["error"]["type"] == "rate_limit"


async def test_without_a_script_or_handler_it_answers_500_saying_so(
    openai_server: ScriptedOpenAIServer,
) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{openai_server.base_url}/chat/completions", json={})

    assert response.status_code == 500
    assert "no scripted reply left" in response.json()["error"]["message"]


async def test_handler_may_answer_with_an_error(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.default_handler = lambda body: HTTPError(418, body["model"])

    async with httpx2.AsyncClient() as http:
        response = await http.post(
            f"{openai_server.base_url}/chat/completions",
            json={"model": "teapot"},
            headers={"Authorization": "Bearer abc"},
        )

    assert response.status_code == 418
    assert response.json()["error"]["message"] == "teapot"
    assert openai_server.chat_requests[0].authorization == "Bearer abc"


def test_start_and_stop_twice_is_harmless() -> None:
    server = ScriptedOpenAIServer(model="other")
    with server:
        assert server.port > 0
    server.stop()
