"""Structured output through the real SDK: first-time success, repairs, the bound, fallbacks."""

import json
from typing import Any

import pytest

from missionctl.errors import LLMOutputInvalid
from missionctl.llm import LLMUsage, OutputMode
from tests.llm.helpers import MODEL, VALID_PLAN, MakeClient, Plan, SleepRecorder, ask
from tests.support.openai_server import (
    Content,
    HTTPError,
    ScriptedOpenAIServer,
    Usage,
    json_schema_unsupported,
)


async def test_valid_reply_first_time(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(Content(VALID_PLAN, usage=Usage(42, 7, cached_tokens=3)))

    result = await ask(make_client())

    assert result.value == Plan(title="Ship it", steps=["build", "test"], priority=2)
    assert result.attempts == 1
    assert result.model == MODEL
    assert result.usage == LLMUsage(input_tokens=42, output_tokens=7, cached_input_tokens=3)
    [request] = openai_server.chat_requests
    assert request.body is not None
    assert request.body["model"] == MODEL
    assert not request.stream
    assert request.messages == [
        {"role": "system", "content": "You are a planner."},
        {"role": "user", "content": "Plan it"},
    ]
    assert request.response_format == {
        "type": "json_schema",
        "json_schema": {"name": "plan", "schema": Plan.model_json_schema(), "strict": False},
    }


async def test_malformed_json_is_repaired_on_the_second_attempt(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push('{"title": "Ship it", "steps": [', VALID_PLAN)

    result = await ask(make_client())

    assert result.value.title == "Ship it"
    assert result.attempts == 2
    first, second = openai_server.chat_requests
    assert len(first.messages) == 2
    system, user, assistant, repair = second.messages
    assert (system["role"], user["content"]) == ("system", "Plan it")
    assert assistant == {"role": "assistant", "content": '{"title": "Ship it", "steps": ['}
    assert repair["role"] == "user"
    assert repair["content"].startswith("Your reply did not match the schema: (root): Invalid JSON")
    assert repair["content"].endswith("Reply with corrected JSON only.")


async def test_schema_invalid_json_is_repaired_with_the_fields_named(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push_json({"title": "Ship it", "steps": [], "priority": 9})
    openai_server.push(VALID_PLAN)

    result = await ask(make_client())

    assert result.attempts == 2
    repair = openai_server.chat_requests[1].messages[-1]["content"]
    assert "steps: List should have at least 1 item" in repair
    assert "priority: Input should be less than or equal to 5" in repair


async def test_still_invalid_after_the_bound_raises_output_invalid(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(
        '{"title": "a", "steps": ["x"]}',
        '{"title": "a", "steps": ["x"], "priority": "high"}',
        VALID_PLAN,  # never asked for: the bound is one repair
    )

    with pytest.raises(LLMOutputInvalid) as caught:
        await ask(make_client(), max_repairs=1)

    assert caught.value.field == "priority"
    assert caught.value.code == "llm_output_invalid"
    message = str(caught.value)
    assert MODEL in message
    assert "after 2 attempt(s)" in message
    assert "priority: Input should be a valid integer" in message  # the last attempt's error
    assert len(openai_server.chat_requests) == 2
    assert openai_server.pending == 1


async def test_zero_repairs_means_one_request(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push("not json at all")

    with pytest.raises(LLMOutputInvalid, match=r"\(root\): Invalid JSON"):
        await ask(make_client(), max_repairs=0)

    assert len(openai_server.chat_requests) == 1


async def test_empty_reply_is_repaired(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push("", VALID_PLAN)

    result = await ask(make_client())

    assert result.attempts == 2
    assert "the reply was empty" in openai_server.chat_requests[1].messages[-1]["content"]


@pytest.mark.parametrize(
    "wrapped",
    [
        f"```json\n{VALID_PLAN}\n```",
        f"```\n{VALID_PLAN}\n```",
        f"Here is the plan:\n\n```json\n{VALID_PLAN}\n```\nAnything else?",
    ],
)
async def test_fenced_json_is_accepted(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, wrapped: str
) -> None:
    openai_server.push(wrapped)

    result = await ask(make_client())

    assert result.attempts == 1
    assert result.value.priority == 2


async def test_usage_is_summed_over_repair_attempts(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(
        Content("{", usage=Usage(100, 20, cached_tokens=30)),
        Content('{"title": "a"}', usage=Usage(150, 10)),
        Content(VALID_PLAN, usage=Usage(200, 5, cached_tokens=50)),
    )
    seen: list[LLMUsage] = []

    result = await ask(make_client(on_usage=seen.append))

    assert result.attempts == 3
    assert result.usage == LLMUsage(input_tokens=450, output_tokens=35, cached_input_tokens=80)
    assert seen == [LLMUsage(100, 20, 30), LLMUsage(150, 10, 0), LLMUsage(200, 5, 50)]


async def test_json_schema_unsupported_falls_back_to_json_object(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(json_schema_unsupported(), VALID_PLAN, VALID_PLAN)
    client = make_client()

    result = await ask(client)

    assert result.value.title == "Ship it"
    assert result.attempts == 1  # a format downgrade is neither a repair nor a retry
    assert sleeps.calls == []
    assert client.output_mode is OutputMode.JSON_OBJECT
    rejected, accepted = openai_server.chat_requests
    assert rejected.response_format is not None
    assert rejected.response_format["type"] == "json_schema"
    assert accepted.response_format == {"type": "json_object"}
    system = accepted.messages[0]["content"]
    assert system.startswith("You are a planner.\n\n")
    assert "plan" in system
    assert json.dumps(Plan.model_json_schema(), indent=2, sort_keys=True) in system

    await ask(client)  # the verdict is remembered: no second json_schema attempt

    third = openai_server.chat_requests[2]
    assert third.response_format == {"type": "json_object"}


async def test_json_object_unsupported_falls_back_to_the_prompt_alone(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(
        json_schema_unsupported(),
        HTTPError(400, "Unknown response_format type: json_object"),
        VALID_PLAN,
    )
    client = make_client()

    result = await ask(client)

    assert result.value.priority == 2
    assert client.output_mode is OutputMode.PROMPT_ONLY
    last = openai_server.chat_requests[-1]
    assert last.body is not None
    assert "response_format" not in last.body
    assert '"priority"' in last.messages[0]["content"]


async def test_repairs_keep_the_fallback_system_prompt(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(json_schema_unsupported(), "{}", VALID_PLAN)

    result = await ask(make_client())

    assert result.attempts == 2
    repair_request = openai_server.chat_requests[-1]
    assert repair_request.response_format == {"type": "json_object"}
    assert "JSON Schema" in repair_request.messages[0]["content"]
    assert [m["role"] for m in repair_request.messages] == [
        "system",
        "user",
        "assistant",
        "user",
    ]


async def test_default_handler_scripts_a_multi_call_flow(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    def handler(body: dict[str, Any]) -> str:
        topic = body["messages"][-1]["content"]
        return json.dumps({"title": topic.upper(), "steps": [topic], "priority": 1})

    openai_server.default_handler = handler
    client = make_client()

    results = [await ask(client, user=topic) for topic in ("docs", "tests", "release")]

    assert [r.value.title for r in results] == ["DOCS", "TESTS", "RELEASE"]
    assert len(openai_server.chat_requests) == 3
