"""Pytest fixtures over the test-support servers.

Register them for a whole test tree with ``pytest_plugins = ["tests.support.fixtures"]`` in the
top-level ``tests/conftest.py`` (or import both fixture names into a ``conftest.py``).

``pinned_day`` stands the application clock still at noon UTC on :data:`PINNED_DAY` for tests
whose figures are per UTC day: read from the machine's clock, their "today" would change under
them when a run crosses midnight.

One scripted server runs per session (starting and stopping uvicorn costs more than most LLM
tests); ``openai_server`` hands each test that server with its script, recorded requests and
default handler reset, and with the process's memory of the output modes servers refused
cleared (the server's address is the same for every test).
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from missionctl.db.clock import MovedClock, moved_clock
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


PINNED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PINNED_DAY: date = PINNED_NOW.date()
"""The UTC day ``pinned_day`` holds the application clock on."""


@pytest.fixture
def pinned_day() -> Iterator[MovedClock]:
    """The application clock moved to noon UTC on :data:`PINNED_DAY` for the test (events too)."""
    with moved_clock(PINNED_NOW) as clock:
        yield clock
