"""A call's token limit through the real SDK: what each request asks for, and what is not sent."""

import json

import pytest

from missionctl.llm import LLMUsage, OpenAICompatibleClient, StructuredResult, TokenLimitReached
from missionctl.llm.protocol import MIN_REPLY_TOKENS, estimate_prompt_tokens
from tests.llm.helpers import MODEL, VALID_PLAN, MakeClient, Plan
from tests.support.openai_server import Content, HTTPError, ScriptedOpenAIServer, Usage


async def _ask(client: OpenAICompatibleClient, max_tokens: int | None) -> StructuredResult[Plan]:
    return await client.generate_structured(
        system="You are a planner.",
        user="Plan it",
        output_model=Plan,
        schema_name="plan",
        max_tokens=max_tokens,
    )


def _prompt_estimate(body: dict[str, object]) -> int:
    messages = body["messages"]
    assert isinstance(messages, list)
    texts = [str(m.get("content") or "") for m in messages]
    return estimate_prompt_tokens(*texts, json.dumps(body["response_format"]))


@pytest.mark.parametrize("stream", [False, True])
async def test_each_request_asks_for_what_the_limit_leaves_after_the_tokens_used(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, stream: bool
) -> None:
    openai_server.push(
        Content('{"title": "Ship it", "steps": [', usage=Usage(1_000, 500)),  # not JSON: repaired
        Content(VALID_PLAN, usage=Usage(1_200, 40)),
    )

    result = await _ask(make_client(stream=stream), 5_000)

    assert result.usage == LLMUsage(input_tokens=2_200, output_tokens=540)
    first, second = (request.body for request in openai_server.chat_requests)
    assert first is not None and second is not None
    assert first["max_tokens"] == 5_000 - _prompt_estimate(first)
    assert second["max_tokens"] == 5_000 - 1_500 - _prompt_estimate(second)


async def test_a_request_the_limit_cannot_pay_for_is_not_sent(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(VALID_PLAN)

    with pytest.raises(TokenLimitReached) as raised:
        await _ask(make_client(), 100)

    assert openai_server.chat_requests == []
    error = raised.value
    assert error.limit == 100 and error.usage == LLMUsage() and error.attempts == 0
    assert f"model {MODEL!r} was not called" in error.message
    assert "100-token limit" in error.message
    assert error.problems[0].field == "max_tokens"


async def test_a_repair_the_rest_of_the_limit_cannot_pay_for_is_not_sent(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(Content("not json", usage=Usage(3_000, 900)))
    client = make_client()
    limit = 3_900 + MIN_REPLY_TOKENS  # what the first request used, and too little for a repair

    with pytest.raises(TokenLimitReached) as raised:
        await _ask(client, limit)

    assert len(openai_server.chat_requests) == 1
    assert raised.value.usage == LLMUsage(input_tokens=3_000, output_tokens=900)
    assert raised.value.attempts == 1


async def test_without_a_limit_no_max_tokens_is_sent(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(VALID_PLAN)

    await _ask(make_client(), None)

    [request] = openai_server.chat_requests
    assert request.body is not None and "max_tokens" not in request.body


async def test_a_server_that_refuses_max_tokens_gets_max_completion_tokens(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    refusal = HTTPError(
        400,
        "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        error_type="invalid_request_error",
    )
    openai_server.push(refusal, VALID_PLAN, VALID_PLAN)
    client = make_client()

    await _ask(client, 5_000)
    await _ask(client, 5_000)  # remembered: asked the new way at once

    refused, accepted, again = (request.body for request in openai_server.chat_requests)
    assert refused is not None and accepted is not None and again is not None
    assert "max_tokens" in refused and "max_completion_tokens" not in refused
    assert "max_tokens" not in accepted and 0 < accepted["max_completion_tokens"] < 5_000
    assert "max_tokens" not in again and "max_completion_tokens" in again
