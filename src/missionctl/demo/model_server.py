"""The demo's model: an OpenAI-protocol server on 127.0.0.1 that answers from a script.

The demo's ``llm`` steps call it through the product's real model client (the ``openai`` SDK
over HTTP), so their tokens, cost and failures take the path a real model's do. Each call takes
the next scripted answer: the clock is moved forward by the call's duration, then the reply is
sent with its ``usage`` (or the call is refused with a 400, which fails the step). Only
``POST /v1/chat/completions`` without streaming is spoken: what the demo's client asks.
"""

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from missionctl.db.clock import MovedClock

_MAX_HEADER_LINES = 100
_MAX_BODY_BYTES = 10_000_000
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """One call's answer: ``content`` (or a refusal when ``refusal`` is set) after ``seconds``."""

    seconds: float
    prompt_tokens: int
    completion_tokens: int
    content: str = ""
    refusal: str | None = None


class ScriptedModel:
    """The script the server answers from, first in first out."""

    def __init__(self, clock: MovedClock) -> None:
        """An empty script whose calls move ``clock``."""
        self.clock = clock
        self._calls: deque[ScriptedCall] = deque()

    def expect(self, calls: list[ScriptedCall]) -> None:
        """Queue the answers of the next calls."""
        self._calls.extend(calls)

    @property
    def pending(self) -> int:
        """Answers not asked for yet."""
        return len(self._calls)

    def forget(self) -> None:
        """Drop what was not asked for (a run that ended before its last step)."""
        self._calls.clear()

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for a request to ``path``."""
        if path != "/v1/chat/completions":
            return 404, _error(f"no route {path}: this server answers chat completions only")
        if body.get("stream"):
            return 400, _error("streaming is not served here; ask without stream")
        if not self._calls:
            return 500, _error("the demo script has no answer left for this call")
        call = self._calls.popleft()
        self.clock.advance(call.seconds)
        if call.refusal is not None:
            return 400, _error(call.refusal, code="content_policy_violation")
        return 200, _completion(str(body.get("model", "")), call)


def _error(message: str, *, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


def _completion(model: str, call: ScriptedCall) -> dict[str, Any]:
    return {
        "id": "chatcmpl-demo",
        "object": "chat.completion",
        "created": int(call.seconds),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": call.content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "total_tokens": call.prompt_tokens + call.completion_tokens,
        },
    }


@asynccontextmanager
async def serve_model(model: ScriptedModel) -> AsyncIterator[str]:
    """Serve ``model`` on a free port of 127.0.0.1 for the block; yields the client's base URL."""
    open_connections: dict[asyncio.StreamWriter, asyncio.Task[Any]] = {}

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        open_connections[writer] = task
        try:
            while (request := await _read_request(reader)) is not None:
                status, body = model.answer(*request)
                writer.write(_response(status, body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # the client went away, or spoke something else: close the connection
        finally:
            open_connections.pop(writer, None)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        # A connection the client kept open ends when its transport is closed (the handler
        # reads the end of the stream); none is left to be cancelled with the loop.
        handlers = list(open_connections.values())
        for writer in list(open_connections):
            writer.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, Any]] | None:
    """The next request's path and JSON body, or ``None`` once the client closed.

    Raises:
        ValueError: not an HTTP/1.1 request with a JSON body of a stated length.
    """
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        raise ValueError("not an HTTP request line")
    length = 0
    for _ in range(_MAX_HEADER_LINES):
        header = (await reader.readline()).decode("latin-1").strip()
        if not header:
            break
        name, _, value = header.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if not 0 <= length <= _MAX_BODY_BYTES:
        raise ValueError("body too large")
    raw = await reader.readexactly(length) if length else b"{}"
    body = json.loads(raw)
    return parts[1], body if isinstance(body, dict) else {}


def _response(status: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode("latin-1") + payload
