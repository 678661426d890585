"""A real OpenAI-compatible HTTP server on 127.0.0.1 that replays scripted replies.

Tests talk to it through the real ``openai`` SDK, so everything between our code and the wire
(request encoding, SSE parsing, error mapping, timeouts) is exercised for real.

Usage::

    with ScriptedOpenAIServer() as server:
        server.push(
            '{"title": "not closed',                      # malformed JSON
            HTTPError(429, retry_after="0"),              # rate limited, then
            Content('{"title": "ok"}', usage=Usage(12, 3, cached_tokens=4)),
        )
        server.default_handler = lambda body: '{"title": "fallback"}'
        ...  # point a client at server.base_url
        assert server.chat_requests[0].authorization == "Bearer sk-test"

Replies are served first-in first-out from the queue; when it is empty the ``default_handler``
(request body → reply) answers, and without one the server answers 500 saying so. Every request
is recorded with its headers and JSON body. :func:`refusing_response_formats` makes a handler
that plays a server without structured output (400 to ``json_schema``, or to any
``response_format``).
"""

import asyncio
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.threaded_server import ThreadedServer


@dataclass(frozen=True)
class Usage:
    """Token counts reported with a scripted reply."""

    prompt_tokens: int = 10
    completion_tokens: int = 5
    cached_tokens: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }


@dataclass(frozen=True)
class Content:
    """A 200 reply whose assistant message is ``text`` (sent as SSE chunks when streaming)."""

    text: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    chunks: int = 3


@dataclass(frozen=True)
class HTTPError:
    """An error status with an OpenAI-style error body and an optional ``Retry-After``."""

    status: int
    message: str = "scripted error"
    retry_after: str | None = None
    error_type: str = "server_error"
    code: str | None = None


@dataclass(frozen=True)
class Delay:
    """Hold the response for ``seconds`` (ending early if the client hangs up), then send ``then``.

    Longer than the client's timeout, this makes the client time out.
    """

    seconds: float
    then: "Reply | None" = None


Reply = Content | HTTPError | Delay
Handler = Callable[[dict[str, Any]], "Reply | str"]


def json_schema_unsupported() -> HTTPError:
    """The 400 a server without structured-output support answers to ``json_schema``."""
    return HTTPError(
        400,
        "response_format type 'json_schema' is not supported by this server",
        error_type="invalid_request_error",
        code="unsupported_response_format",
    )


def json_object_unsupported() -> HTTPError:
    """The 400 a server that takes no ``response_format`` at all answers to ``json_object``."""
    return HTTPError(
        400,
        "Unknown response_format type: json_object",
        error_type="invalid_request_error",
        code="unsupported_response_format",
    )


def refusing_response_formats(*types: str, then: Handler) -> Handler:
    """A default handler for a server without (some) structured output.

    It answers a request whose ``response_format`` type is one of ``types`` with the 400 such
    a server sends, and any other request as ``then`` does.
    """
    refusals = {"json_schema": json_schema_unsupported, "json_object": json_object_unsupported}

    def handle(body: dict[str, Any]) -> "Reply | str":
        kind = (body.get("response_format") or {}).get("type")
        if kind in types:
            return refusals[kind]()
        return then(body)

    return handle


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def response_format(self) -> dict[str, Any] | None:
        return (self.body or {}).get("response_format")

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))


class ScriptedOpenAIServer(ThreadedServer):
    """Chat Completions (JSON and SSE) and ``GET /v1/models`` under uvicorn in a thread."""

    thread_name = "scripted-openai"

    def __init__(self, *, model: str = "scripted-model") -> None:
        self.model = model
        self.default_handler: Handler | None = None
        self._lock = threading.Condition()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        super().__init__()

    # -- scripting -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to give the client as ``base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Reply | str) -> None:
        """Queue replies; a plain string is a :class:`Content` with default usage."""
        with self._lock:
            self._queue.extend(Content(r) if isinstance(r, str) else r for r in replies)

    def push_json(self, value: Any, *, usage: Usage | None = None) -> None:
        """Queue a reply whose content is ``value`` serialised as JSON."""
        self.push(Content(json.dumps(value), usage=usage or Usage()))

    @property
    def pending(self) -> int:
        """Scripted replies not served yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/chat/completions`` requests received so far."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def wait_for_chat_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until ``count`` chat requests have arrived; False if ``timeout`` passed first.

        From async code: ``await asyncio.to_thread(server.wait_for_chat_requests, 1)``.
        """

        def arrived() -> bool:
            return sum(r.path.endswith("/chat/completions") for r in self._requests) >= count

        with self._lock:
            return self._lock.wait_for(arrived, timeout)

    def reset(self) -> None:
        """Forget the queue, the recorded requests and the default handler."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.default_handler = None

    # -- the app ---------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    async def _models(self, request: Request) -> Response:
        self._record(request, None)
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "scripted"}
        return JSONResponse({"object": "list", "data": [model]})

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self._record(request, body)
        reply = self._next_reply(body)
        while isinstance(reply, Delay):
            deadline = time.monotonic() + reply.seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    return Response(status_code=499)  # nobody is listening any more
                await asyncio.sleep(0.02)
            reply = reply.then or HTTPError(504, "scripted delay elapsed")
        if isinstance(reply, HTTPError):
            return _error_response(reply)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._sse(reply, include_usage=include_usage), media_type="text/event-stream"
            )
        return JSONResponse(
            {
                "id": _completion_id(),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", self.model),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": reply.usage.as_json(),
            }
        )

    async def _sse(self, reply: Content, *, include_usage: bool) -> AsyncIterator[str]:
        base = {
            "id": _completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
        }

        def event(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> str:
            return f"data: {json.dumps({**base, 'choices': choices, 'usage': usage})}\n\n"

        def delta(content: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": content, "finish_reason": finish}]

        yield event(delta({"role": "assistant", "content": ""}))
        for piece in _split(reply.text, reply.chunks):
            yield event(delta({"content": piece}))
        yield event(delta({}, reply.finish_reason))
        if include_usage:
            yield event([], reply.usage.as_json())
        yield "data: [DONE]\n\n"

    def _record(self, request: Request, body: dict[str, Any] | None) -> None:
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
        )
        with self._lock:
            self._requests.append(recorded)
            self._lock.notify_all()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            handler = self.default_handler
        if handler is None:
            return HTTPError(
                500, "ScriptedOpenAIServer: no scripted reply left, no default handler"
            )
        reply = handler(body)
        return Content(reply) if isinstance(reply, str) else reply


def _error_response(error: HTTPError) -> Response:
    headers = {"retry-after": error.retry_after} if error.retry_after is not None else None
    payload = {
        "error": {
            "message": error.message,
            "type": error.error_type,
            "param": None,
            "code": error.code,
        }
    }
    return JSONResponse(payload, status_code=error.status, headers=headers)


def _split(text: str, parts: int) -> list[str]:
    """``text`` in ``parts`` roughly equal, non-empty pieces (fewer if it is short)."""
    size = max(1, -(-len(text) // max(parts, 1)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"
