"""Streaming mode: the reply is assembled from SSE chunks, usage comes from the last chunk."""

import pytest

from missionctl.errors import LLMUnavailable
from missionctl.llm import LLMUsage
from tests.llm.helpers import VALID_PLAN, MakeClient, Plan, SleepRecorder, ask
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


async def test_a_call_given_on_text_streams_and_tells_each_reply_its_pieces(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(
        Content('{"title": "x", "steps": ["a"], "priority": 0}', chunks=4),  # sent back
        Content(VALID_PLAN, chunks=5),
    )
    heard: list[tuple[str, bool]] = []

    result = await make_client().generate_structured(
        system="You are a planner.",
        user="Plan it",
        output_model=Plan,
        schema_name="plan",
        on_text=lambda text, *, fresh: heard.append((text, fresh)),
    )

    assert result.value.priority == 2
    assert all(r.stream for r in openai_server.chat_requests)
    # Each reply's pieces, in order; each reply's first one fresh.
    assert [fresh for _, fresh in heard] == [True, False, False, False, True, *[False] * 4]
    assert "".join(text for text, _ in heard[4:]) == VALID_PLAN


async def test_a_server_that_refuses_streaming_is_asked_for_whole_replies_from_then_on(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    def whole_only(body: dict[str, object]) -> HTTPError | str:
        if body.get("stream"):
            return HTTPError(400, "stream is not supported by this server", "invalid_request_error")
        return VALID_PLAN

    openai_server.default_handler = whole_only
    client = make_client()
    heard: list[str] = []

    for _ in range(2):
        result = await client.generate_structured(
            system="You are a planner.",
            user="Plan it",
            output_model=Plan,
            schema_name="plan",
            on_text=lambda text, *, fresh: heard.append(text),
        )
        assert result.value.priority == 2 and result.attempts == 1

    assert [r.stream for r in openai_server.chat_requests] == [True, False, False]
    assert heard == [] and sleeps.calls == []  # sent again at once; nothing was streamed


async def test_an_upstream_error_is_no_refusal_of_streaming(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(HTTPError(400, "upstream model failed", "invalid_request_error"))

    with pytest.raises(LLMUnavailable):
        await make_client().generate_structured(
            system="s",
            user="u",
            output_model=Plan,
            schema_name="plan",
            on_text=lambda text, *, fresh: None,
        )
    assert [r.stream for r in openai_server.chat_requests] == [True]
