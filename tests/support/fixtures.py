"""Pytest fixtures over the test-support servers.

Register them for a whole test tree with ``pytest_plugins = ["tests.support.fixtures"]`` in the
top-level ``tests/conftest.py`` (or import both fixture names into a ``conftest.py``).

One scripted server runs per session (starting and stopping uvicorn costs more than most LLM
tests); ``openai_server`` hands each test that server with its script, recorded requests and
default handler reset, and with the process's memory of the output modes servers refused
cleared (the server's address is the same for every test).
"""

from collections.abc import Iterator

import pytest

from missionctl.llm.openai_client import OUTPUT_MODES
from tests.support.openai_server import ScriptedOpenAIServer


@pytest.fixture(scope="session")
def scripted_openai_server() -> Iterator[ScriptedOpenAIServer]:
    """The session's scripted OpenAI-compatible server on 127.0.0.1 (use ``openai_server``)."""
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server(scripted_openai_server: ScriptedOpenAIServer) -> Iterator[ScriptedOpenAIServer]:
    """The scripted server with an empty script, no recorded requests and no default handler.

    No client remembers a response_format this server refused in an earlier test.
    """
    scripted_openai_server.reset()
    OUTPUT_MODES.forget()
    yield scripted_openai_server
    scripted_openai_server.reset()
    OUTPUT_MODES.forget()
