"""A real Anthropic Messages API server on 127.0.0.1 that plays a scripted model.

A real coding CLI (Claude Code, through ``ANTHROPIC_BASE_URL``) talks to it over HTTP, so the
program's whole loop runs for real: it sends the conversation, runs the tools the script asks
for, and sends their results back. Only the model is scripted. ``missionctl demo coding
--scripted-model`` runs one (its script is ``demo.coding_model``), and the tests run the real
CLIs against others.

Usage::

    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results:
            return Message([ToolUse("Bash", {"command": "echo hi > f.txt"})])
        return Message([Text("Done.")])

    with ScriptedAnthropicServer(script) as server:
        ...  # run the CLI with ANTHROPIC_BASE_URL=server.base_url
        assert server.agent_requests[-1].tool_results[0]["content"] == ...

``POST /v1/messages`` answers as JSON or, when the body asks for ``stream``, as the SSE events
the API sends (``message_start``, ``content_block_start``/``delta``/``stop`` per block,
``message_delta`` with the stop reason, ``message_stop``). A request that carries no tools
(a CLI's side calls: a title, a quota probe) gets ``side_reply`` without reaching the script.
``POST /v1/messages/count_tokens`` answers a fixed count. Every request to any path is recorded
(method, path, headers, JSON body); a path the server does not serve gets a 404 in the API's
error shape, so a test can see what else a CLI asked for.
"""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from missionctl.demo.recorded_request import RecordedToolRequest
from missionctl.demo.threaded_server import RecordingServer


@dataclass(frozen=True)
class Text:
    """A text block of the model's reply."""

    text: str


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block: the model asks the CLI to run tool ``name`` with ``input``."""

    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f"toolu_{uuid.uuid4().hex[:24]}")


Block = Text | ToolUse


@dataclass(frozen=True)
class Message:
    """A 200 reply: the assistant's content blocks.

    The stop reason is ``tool_use`` when a block asks for a tool, else ``end_turn``.
    """

    content: list[Block]
    input_tokens: int = 20
    output_tokens: int = 10

    @property
    def stop_reason(self) -> str:
        """What the API says ended the reply: ``tool_use`` or ``end_turn``."""
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.content) else "end_turn"


@dataclass(frozen=True)
class HTTPError:
    """An error status with the API's error body."""

    status: int
    message: str = "scripted error"
    error_type: str = "api_error"


Reply = Message | HTTPError


@dataclass(frozen=True)
class RecordedRequest(RecordedToolRequest):
    """One request as the server received it, read as the Messages API."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation the request carries, oldest message first."""
        return list((self.body or {}).get("messages", []))

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the last user message (what the CLI's tools did)."""
        if not self.messages or self.messages[-1].get("role") != "user":
            return []
        content = self.messages[-1].get("content")
        if not isinstance(content, list):
            return []
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


Script = Callable[[RecordedRequest], Reply]


class ScriptedAnthropicServer(RecordingServer[RecordedRequest]):
    """The Messages API (JSON and SSE) under uvicorn in a thread; ``script`` plays the model."""

    thread_name = "scripted-anthropic"
    base_path = ""  # the CLI's ANTHROPIC_BASE_URL; it appends /v1/messages

    def __init__(self, script: Script, *, side_reply: str = "Scripted.") -> None:
        """``script`` answers each request that offers tools; ``side_reply`` the others."""
        self.script = script
        self.side_reply = side_reply
        super().__init__(RecordedRequest)

    @property
    def agent_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/messages`` requests that offered tools (the agent's own turns)."""
        return [r for r in self.requests if r.path == "/v1/messages" and r.tools]

    # -- the app ---------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/messages/count_tokens", self._count_tokens, methods=["POST"]),
                Route("/{path:path}", self._other, methods=["GET", "POST", "PUT", "HEAD"]),
            ]
        )

    async def _count_tokens(self, request: Request) -> Response:
        await self._log.record(request)
        return JSONResponse({"input_tokens": 100})

    async def _other(self, request: Request) -> Response:
        await self._log.record(request)
        return _error(HTTPError(404, f"not served by the scripted model: {request.url.path}"))

    async def _messages(self, request: Request) -> Response:
        recorded = await self._log.record(request)
        body = recorded.body or {}
        reply = self.script(recorded) if recorded.tools else Message([Text(self.side_reply)])
        if isinstance(reply, HTTPError):
            return _error(reply)
        model = str(body.get("model", "scripted-model"))
        if body.get("stream"):
            return StreamingResponse(_events(reply, model), media_type="text/event-stream")
        return JSONResponse(
            _message(reply, model)
            | {
                "content": [_block(b) for b in reply.content],
                "stop_reason": reply.stop_reason,
                "usage": _usage(reply),
            }
        )


def _message(reply: Message, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1},
    }


def _usage(reply: Message) -> dict[str, int]:
    return {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}


def _block(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


async def _events(reply: Message, model: str) -> AsyncIterator[str]:
    """The SSE events of ``reply``, as the API streams them."""

    def event(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    yield event("message_start", {"message": _message(reply, model)})
    for index, block in enumerate(reply.content):
        if isinstance(block, Text):
            yield event(
                "content_block_start",
                {"index": index, "content_block": {"type": "text", "text": ""}},
            )
            delta = {"type": "text_delta", "text": block.text}
        else:
            start = _block(block) | {"input": {}}
            yield event("content_block_start", {"index": index, "content_block": start})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block.input)}
        yield event("content_block_delta", {"index": index, "delta": delta})
        yield event("content_block_stop", {"index": index})
    yield event(
        "message_delta",
        {
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield event("message_stop", {})


def _error(error: HTTPError) -> Response:
    payload = {"type": "error", "error": {"type": error.error_type, "message": error.message}}
    return JSONResponse(payload, status_code=error.status)
