"""Transport failures through the real SDK: what is retried, how long we wait, when we give up."""

import asyncio
import socket
import time

import pytest

from missionctl.errors import LLMUnavailable
from missionctl.llm import LLMUsage
from tests.llm.helpers import MODEL, VALID_PLAN, MakeClient, SleepRecorder, ask
from tests.support.openai_server import Content, Delay, HTTPError, ScriptedOpenAIServer, Usage


async def test_429_with_retry_after_zero_then_success(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(HTTPError(429, "slow down", retry_after="0"), VALID_PLAN)

    result = await ask(make_client())

    assert result.value.title == "Ship it"
    assert result.attempts == 1  # retries are below the repair loop, not attempts of it
    assert sleeps.calls == [0.0]
    assert len(openai_server.chat_requests) == 2


async def test_retry_after_is_capped_by_backoff_max(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(HTTPError(429, retry_after="3600"), VALID_PLAN)

    await ask(make_client(backoff_max_s=8.0))

    assert sleeps.calls == [8.0]


async def test_500_then_success_waits_a_jittered_backoff(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(HTTPError(500, "boom"), VALID_PLAN)

    result = await ask(make_client(backoff_base_s=0.5))

    assert result.value.priority == 2
    [delay] = sleeps.calls
    assert 0.0 <= delay <= 0.5


async def test_persistent_5xx_gives_up_after_max_retries(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(*[HTTPError(503, "overloaded")] * 4)

    with pytest.raises(LLMUnavailable) as caught:
        await ask(make_client(max_retries=2, backoff_base_s=1.0, backoff_max_s=3.0))

    message = str(caught.value)
    assert MODEL in message
    assert "after 3 attempt(s)" in message
    assert "HTTP 503: overloaded" in message
    assert len(openai_server.chat_requests) == 3
    assert len(sleeps.calls) == 2
    assert all(0.0 <= d <= min(3.0, 1.0 * 2**i) for i, d in enumerate(sleeps.calls))
    assert openai_server.pending == 1


async def test_timeout_is_retried_then_reported(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(Delay(2.0), Delay(2.0))
    started = time.monotonic()

    with pytest.raises(LLMUnavailable, match=r"timed out after 0\.3s") as caught:
        await ask(make_client(timeout_s=0.3, max_retries=1))

    assert time.monotonic() - started < 1.8  # two 0.3 s timeouts, not two 2 s waits
    assert "after 2 attempt(s)" in str(caught.value)
    assert len(openai_server.chat_requests) == 2
    assert len(sleeps.calls) == 1


async def test_timeout_then_success(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(Delay(2.0), VALID_PLAN)

    result = await ask(make_client(timeout_s=0.3))

    assert result.value.title == "Ship it"


async def test_slow_reply_within_the_timeout_is_fine(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(Delay(0.1, then=Content(VALID_PLAN)))

    result = await ask(make_client(timeout_s=2.0))

    assert result.attempts == 1
    assert sleeps.calls == []


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (401, "Incorrect API key provided"),
        (403, "Project does not have access"),
        (404, "The model `test-model` does not exist"),
        (400, "This model's maximum context length is 8192 tokens"),
    ],
)
async def test_client_errors_fail_at_once(
    openai_server: ScriptedOpenAIServer,
    make_client: MakeClient,
    sleeps: SleepRecorder,
    status: int,
    text: str,
) -> None:
    openai_server.push(HTTPError(status, text, error_type="invalid_request_error"), VALID_PLAN)

    with pytest.raises(LLMUnavailable) as caught:
        await ask(make_client())

    assert f"HTTP {status}: {text}" in str(caught.value)
    assert "after 1 attempt(s)" in str(caught.value)
    assert len(openai_server.chat_requests) == 1
    assert sleeps.calls == []


async def test_the_sdk_does_not_retry_underneath(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(HTTPError(500), HTTPError(500), VALID_PLAN)

    with pytest.raises(LLMUnavailable):
        await ask(make_client(max_retries=0))

    assert len(openai_server.chat_requests) == 1


async def test_connection_refused_is_retried_then_reported(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    with socket.socket() as sock:  # a port on which, once closed, nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(LLMUnavailable, match="connection failed") as caught:
        await ask(make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=2))

    assert "after 3 attempt(s)" in str(caught.value)
    assert len(sleeps.calls) == 2


async def test_failed_requests_report_no_usage(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(HTTPError(502), Content(VALID_PLAN, usage=Usage(11, 4)))
    seen: list[LLMUsage] = []

    result = await ask(make_client(on_usage=seen.append))

    assert seen == [LLMUsage(11, 4, 0)]
    assert result.usage == LLMUsage(11, 4, 0)


async def test_unavailable_does_not_chain_the_sdk_exception(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient
) -> None:
    openai_server.push(HTTPError(401, "nope"))

    with pytest.raises(LLMUnavailable) as caught:
        await ask(make_client())

    # The SDK error carries the request (and its headers); a traceback must not print it.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


async def test_cancellation_abandons_the_request_and_leaves_the_client_usable(
    openai_server: ScriptedOpenAIServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    openai_server.push(Delay(5.0), VALID_PLAN)
    client = make_client(timeout_s=10.0)
    task = asyncio.create_task(ask(client))
    assert await asyncio.to_thread(openai_server.wait_for_chat_requests, 1)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert sleeps.calls == []  # cancellation is not a failure to retry
    result = await ask(client)
    assert result.value.title == "Ship it"
