"""The scripted servers read a request whole, so they refuse one past their limit as it streams."""

import httpx2
import pytest

from missionctl.demo import threaded_server
from tests.support.openai_server import ScriptedOpenAIServer


def test_a_request_past_the_limit_is_refused_413_before_it_is_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threaded_server, "MAX_REQUEST_BYTES", 4096)
    with ScriptedOpenAIServer() as server:
        url = f"http://127.0.0.1:{server.port}/v1/chat/completions"

        def endless() -> object:  # no Content-Length: only counting can stop it
            for _ in range(1000):
                yield b"x" * 1024

        answer = httpx2.post(url, content=endless(), headers={"content-type": "application/json"})
    assert answer.status_code == 413
