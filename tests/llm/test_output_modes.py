"""A server's refusal of a response_format is remembered per base URL and model, process-wide."""

from missionctl.llm import OutputMode
from missionctl.llm.openai_client import OutputModeMemory
from tests.llm.helpers import VALID_PLAN, MakeClient, ask
from tests.support.openai_server import (
    ScriptedOpenAIServer,
    json_schema_unsupported,
    refusing_response_formats,
)


def _formats(server: ScriptedOpenAIServer) -> list[str | None]:
    return [(r.response_format or {}).get("type") for r in server.chat_requests]


async def test_a_new_client_of_the_same_model_starts_where_the_last_one_ended(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.default_handler = refusing_response_formats(
        "json_schema", then=lambda body: VALID_PLAN
    )

    first = await ask(make_client())
    second = await ask(make_client(base_url=openai_server.base_url + "/"))  # same server

    assert (first.output_mode, second.output_mode) == (OutputMode.JSON_OBJECT,) * 2
    assert _formats(openai_server) == ["json_schema", "json_object", "json_object"]


async def test_another_model_or_a_private_memory_asks_for_json_schema_again(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(json_schema_unsupported(), VALID_PLAN, VALID_PLAN, VALID_PLAN)
    await ask(make_client())

    other_model = await ask(make_client(model="another-model"))
    private = await ask(make_client(output_modes=OutputModeMemory()))

    assert other_model.output_mode is private.output_mode is OutputMode.JSON_SCHEMA
    assert _formats(openai_server) == ["json_schema", "json_object", "json_schema", "json_schema"]


async def test_a_reply_with_prose_around_the_json_is_read(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(f"Sure! Here it is: {VALID_PLAN} Anything else?")

    result = await ask(make_client())

    assert result.value.title == "Ship it" and result.attempts == 1


def test_modes_only_move_down() -> None:
    memory = OutputModeMemory()

    memory.refused("http://x/v1/", "m", OutputMode.JSON_SCHEMA)
    memory.refused("http://x/v1/", "m", OutputMode.JSON_OBJECT)
    late = memory.refused("http://x/v1/", "m", OutputMode.JSON_SCHEMA)  # a request in flight

    assert late is memory.mode("http://x/v1/", "m") is OutputMode.PROMPT_ONLY
    memory.forget()
    assert memory.mode("http://x/v1/", "m") is OutputMode.JSON_SCHEMA
