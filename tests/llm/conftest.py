"""Fixtures for the LLM layer: the scripted server and clients pointed at it."""

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from missionctl.llm import OpenAICompatibleClient
from tests.llm.helpers import API_KEY, MODEL, MakeClient, SleepRecorder
from tests.support.openai_server import ScriptedOpenAIServer


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def make_client(
    openai_server: ScriptedOpenAIServer, sleeps: SleepRecorder
) -> AsyncIterator[MakeClient]:
    """Build clients against the scripted server (kwargs override); all closed afterwards."""
    clients: list[OpenAICompatibleClient] = []

    def make(**overrides: Any) -> OpenAICompatibleClient:
        kwargs: dict[str, Any] = {
            "base_url": openai_server.base_url,
            "api_key": API_KEY,
            "model": MODEL,
            "timeout_s": 5.0,
            "sleep": sleeps,
            "rng": random.Random(1234),
        }
        kwargs.update(overrides)
        client = OpenAICompatibleClient(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
