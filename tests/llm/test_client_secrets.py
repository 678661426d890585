"""The API key goes to the server and nowhere else: not into logs, not into error messages."""

import logging

import pytest
from pydantic import SecretStr

from missionctl.errors import LLMUnavailable
from missionctl.llm import OpenAICompatibleClient
from missionctl.settings import LLMSettings
from tests.llm.helpers import API_KEY, MODEL, VALID_PLAN, MakeClient, ask
from tests.support.openai_server import Delay, HTTPError, ScriptedOpenAIServer

SECRET_PROMPT = "the launch codes are 0000"


def all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "\n".join(r.getMessage() for r in caplog.records)


async def test_key_reaches_the_server_but_never_the_logs(
    openai_server: ScriptedOpenAIServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    openai_server.push(
        HTTPError(429, f"rate limited for key {API_KEY}", retry_after="0"),
        "{}",  # schema-invalid: one repair
        VALID_PLAN,
        HTTPError(401, f"Incorrect API key provided: {API_KEY}. Sent: Bearer {API_KEY}"),
    )
    client = make_client(timeout_s=5.0)

    await ask(client, user=SECRET_PROMPT)
    with pytest.raises(LLMUnavailable) as caught:
        await ask(client)

    assert {r.authorization for r in openai_server.chat_requests} == {f"Bearer {API_KEY}"}
    assert API_KEY not in str(caught.value)
    assert "[REDACTED]" in str(caught.value)
    text = all_log_text(caplog)
    assert API_KEY not in text
    ours = [r for r in caplog.records if r.name == "missionctl.llm"]
    assert {r.levelno for r in ours} >= {logging.DEBUG, logging.INFO, logging.WARNING}
    # Prompts are logged at DEBUG only.
    assert any(SECRET_PROMPT in r.getMessage() for r in ours if r.levelno == logging.DEBUG)
    assert not any(SECRET_PROMPT in r.getMessage() for r in caplog.records if r.levelno > 10)


async def test_key_in_a_prompt_is_redacted_from_debug_logs(
    openai_server: ScriptedOpenAIServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="missionctl.llm")
    openai_server.push(VALID_PLAN)

    await ask(make_client(), user=f"my key is {API_KEY} and sk-abcdefghijklmnop1234")

    text = all_log_text(caplog)
    assert API_KEY not in text
    assert "sk-abcdefghijklmnop1234" not in text
    assert "my key is [REDACTED]" in text


async def test_timeouts_and_failures_are_logged_without_the_key(
    openai_server: ScriptedOpenAIServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    openai_server.push(Delay(2.0), Delay(2.0))

    with pytest.raises(LLMUnavailable):
        await ask(make_client(timeout_s=0.2, max_retries=1))

    assert "retry 1 of 1" in caplog.text
    assert API_KEY not in all_log_text(caplog)


async def test_no_key_sends_no_authorization_even_with_openai_api_key_set(
    openai_server: ScriptedOpenAIServer,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-123456")
    openai_server.push(VALID_PLAN)

    await ask(make_client(api_key=None))

    [request] = openai_server.chat_requests
    assert request.authorization is None


async def test_from_settings_uses_the_secret_key_and_model(
    openai_server: ScriptedOpenAIServer,
) -> None:
    settings = LLMSettings(
        base_url=openai_server.base_url,
        api_key=SecretStr(API_KEY),
        model=MODEL,
        timeout_s=5,
    )
    openai_server.push(VALID_PLAN)

    async with OpenAICompatibleClient.from_settings(settings) as client:
        result = await ask(client)

    assert client.model == MODEL
    assert result.model == MODEL
    assert openai_server.chat_requests[0].authorization == f"Bearer {API_KEY}"


def test_from_settings_without_a_model_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="MISSIONCTL_LLM_MODEL"):
        OpenAICompatibleClient.from_settings(LLMSettings(base_url="http://127.0.0.1:9/v1"))


@pytest.mark.parametrize(
    "bad",
    [{"model": ""}, {"timeout_s": 0}, {"max_retries": -1}, {"backoff_base_s": -1.0}],
)
def test_constructor_rejects_nonsense(bad: dict[str, object]) -> None:
    kwargs: dict[str, object] = {
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": None,
        "model": MODEL,
        "timeout_s": 1.0,
        **bad,
    }
    with pytest.raises(ValueError):
        OpenAICompatibleClient(**kwargs)  # type: ignore[arg-type]
