"""Streaming mode: the reply is assembled from SSE chunks, usage comes from the last chunk."""

from missionctl.llm import LLMUsage
from tests.llm.helpers import VALID_PLAN, MakeClient, SleepRecorder, ask
from tests.support.openai_server import Content, HTTPError, ScriptedOpenAIServer, Usage


async def test_content_is_assembled_from_chunks_and_usage_taken_from_the_final_chunk(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(Content(VALID_PLAN, usage=Usage(31, 17, cached_tokens=8), chunks=7))
    seen: list[LLMUsage] = []

    result = await ask(make_client(stream=True, on_usage=seen.append))

    assert result.value.steps == ["build", "test"]
    assert result.usage == LLMUsage(input_tokens=31, output_tokens=17, cached_input_tokens=8)
    assert seen == [result.usage]
    [request] = openai_server.chat_requests
    assert request.stream
    assert request.body is not None
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.response_format is not None
    assert request.response_format["type"] == "json_schema"


async def test_streamed_repairs_sum_usage(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(
        Content('{"title": "x", "steps": ["a"], "priority": 0}', usage=Usage(50, 9, 5)),
        Content(VALID_PLAN, usage=Usage(70, 6, 5), chunks=1),
    )
    seen: list[LLMUsage] = []

    result = await ask(make_client(stream=True, on_usage=seen.append))

    assert result.attempts == 2
    assert result.usage == LLMUsage(120, 15, 10)
    assert seen == [LLMUsage(50, 9, 5), LLMUsage(70, 6, 5)]
    repair = openai_server.chat_requests[1].messages
    assert repair[2] == {
        "role": "assistant",
        "content": '{"title": "x", "steps": ["a"], "priority": 0}',
    }


async def test_streaming_retries_a_429_like_a_plain_request(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(HTTPError(429, retry_after="0"), VALID_PLAN)

    result = await ask(make_client(stream=True))

    assert result.value.priority == 2
    assert sleeps.calls == [0.0]
    assert all(r.stream for r in openai_server.chat_requests)
