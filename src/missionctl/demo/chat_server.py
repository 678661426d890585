"""A real OpenAI Chat Completions server on 127.0.0.1 whose every reply comes from a script.

A real coding CLI (aider, through ``--openai-api-base``) talks to it over HTTP, so the program's
whole loop runs for real: it sends the conversation (the files in its chat, the output of the
tests it ran), applies the edits the script's replies hold, and asks again. Only the model is
scripted. ``missionctl demo coding --cli aider --scripted-model`` runs one (its script is
``demo.cli_models``), and the tests run the real aider against others.

Usage::

    def script(request: RecordedRequest) -> Reply:
        return "Done." if len(request.messages) > 2 else "Editing."

    with ScriptedChatServer(script) as server:
        ...  # point the CLI at server.base_url
    assert server.errors == []

A streamed reply comes in three pieces at once, as a short real one does; ``chunk_chars`` and
``chunk_delay_s`` make it come as a long one does: in pieces of that many characters, that
long apart (a slow model, for what shows a reply while it is written).

``POST /v1/chat/completions`` answers with the script's reply: a string is the assistant's
message, sent as SSE chunks when the body asks for ``stream`` (with the usage last when
``stream_options.include_usage``), else as JSON; an :class:`HTTPError` answers with its status
and the API's error body. An exception raised by the script (say, an assertion about what the
CLI sent) is kept in :attr:`ScriptedChatServer.errors` and answered with a 400, which CLIs do
not retry, so that it shows at once. Every request to any path is recorded (method, path,
headers, JSON body); a path the server does not serve gets a 404, so that a test sees what else
a CLI asked the endpoint for.
"""

import asyncio
import json
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from missionctl.demo.recorded_request import RecordedHTTPRequest
from missionctl.demo.threaded_server import HTTPError, RecordingServer

_USAGE = {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
_CHUNKS = 3  # a reply streams in a few pieces, as a real model's does


Reply = str | HTTPError


@dataclass(frozen=True)
class RecordedRequest(RecordedHTTPRequest):
    """One request as the server received it, read as Chat Completions."""

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header (``Bearer <key>``), if sent."""
        return self.headers.get("authorization")

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation the request carries, oldest message first."""
        messages = (self.body or {}).get("messages", [])
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


Script = Callable[[RecordedRequest], Reply]


class ScriptedChatServer(RecordingServer[RecordedRequest]):
    """Chat Completions (JSON and SSE) under uvicorn in a thread; ``script`` plays the model."""

    thread_name = "scripted-chat"
    base_path = "/v1"  # the CLI appends /chat/completions

    def __init__(
        self, script: Script, *, chunk_chars: int | None = None, chunk_delay_s: float = 0.0
    ) -> None:
        """``script`` answers each ``POST /v1/chat/completions`` with the conversation so far.

        A streamed reply is cut in pieces of ``chunk_chars`` characters (``None``: in three),
        each sent ``chunk_delay_s`` after the one before.
        """
        if chunk_chars is not None and chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        if chunk_delay_s < 0:
            raise ValueError("chunk_delay_s must be zero or more")
        self.script = script
        self.chunk_chars = chunk_chars
        self.chunk_delay_s = chunk_delay_s
        # Pieces of replies streamed so far, all requests together (a client can be asked what
        # it had shown by then).
        self.pieces_sent = 0
        self.errors: list[str] = []  # what the script raised, as tracebacks
        super().__init__(RecordedRequest)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/chat/completions`` requests (the model's turns), oldest first."""
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def other_requests(self) -> list[str]:
        """``METHOD path`` of every request that was not a chat completion."""
        return [f"{r.method} {r.path}" for r in self.requests if r.path != "/v1/chat/completions"]

    def _app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/{path:path}", self._other, methods=methods),
            ]
        )

    async def _other(self, request: Request) -> Response:
        await self._log.record(request)
        message = f"not served by the scripted model: {request.method} {request.url.path}"
        return HTTPError(404, message, "invalid_request_error", "not_found").response()

    async def _chat(self, request: Request) -> Response:
        recorded = await self._log.record(request)
        body = recorded.body or {}
        reply = self._answer(recorded)
        if isinstance(reply, HTTPError):
            return reply.response()
        model = str(body.get("model", "scripted-model"))
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            pace = _Pace(self.chunk_chars, self.chunk_delay_s)
            chunks = self._counted(_chunks(reply, model, include_usage=usage, pace=pace))
            return StreamingResponse(chunks, media_type="text/event-stream")
        return JSONResponse(_completion(reply, model))

    async def _counted(self, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for chunk in chunks:
            self.pieces_sent += 1
            yield chunk

    def _answer(self, request: RecordedRequest) -> Reply:
        try:
            return self.script(request)
        except Exception:  # kept for the caller to show, answered as a failure
            self.errors.append(traceback.format_exc())
            message = "the scripted model's script raised; see server.errors"
            return HTTPError(400, message, "invalid_request_error")


def _completion(text: str, model: str) -> dict[str, Any]:
    """The ``chat.completion`` object whose assistant message is ``text``."""
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": dict(_USAGE),
    }


@dataclass(frozen=True)
class _Pace:
    """How a streamed reply is cut: pieces of ``chars`` (``None``: three), ``delay_s`` apart."""

    chars: int | None = None
    delay_s: float = 0.0


async def _chunks(
    text: str, model: str, *, include_usage: bool, pace: _Pace = _Pace()
) -> AsyncIterator[str]:
    """The SSE ``chat.completion.chunk`` events of ``text``, as the API streams them."""
    base = {
        "id": _completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def event(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> str:
        return f"data: {json.dumps({**base, 'choices': choices, 'usage': usage})}\n\n"

    def delta(content: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": content, "finish_reason": finish}]

    yield event(delta({"role": "assistant", "content": ""}))
    size = pace.chars or max(1, -(-len(text) // _CHUNKS))
    for start in range(0, len(text), size):
        if pace.delay_s and start:
            await asyncio.sleep(pace.delay_s)
        yield event(delta({"content": text[start : start + size]}))
    yield event(delta({}, "stop"))
    if include_usage:
        yield event([], dict(_USAGE))
    yield "data: [DONE]\n\n"


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"
