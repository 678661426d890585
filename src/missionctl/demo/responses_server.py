"""A real OpenAI Responses API server on 127.0.0.1 that plays a scripted model.

A real coding CLI (Codex CLI, through a model provider whose ``base_url`` is :attr:`base_url`
and whose wire API is ``responses``) talks to it over HTTP, so the program's whole loop runs for
real: it sends the conversation, runs the tools the script asks for, and sends their results
back as ``function_call_output`` items. Only the model is scripted. ``missionctl demo coding
--cli codex --scripted-model`` runs one (its script is ``demo.cli_models``), and the tests run
the real Codex CLI against others.

Usage::

    def script(request: RecordedRequest) -> Reply:
        if not request.outputs:
            return Response([Text("Looking."), FunctionCall("exec_command", {"cmd": "ls"})])
        return Response([Text("Done.")])

    with ScriptedResponsesServer(script) as server:
        ...  # run the CLI against server.base_url
        assert "README.md" in server.agent_requests[-1].outputs[0]

``POST /v1/responses`` answers, when the body asks for ``stream`` (as Codex always does), with
the SSE events the API streams: ``response.created``, ``response.in_progress``, then per output
item ``response.output_item.added``, its deltas (``response.output_text.delta`` for a message,
``response.function_call_arguments.delta`` for a function call,
``response.custom_tool_call_input.delta`` for a free-form tool call) and
``response.output_item.done``, and last ``response.completed`` with the usage; otherwise with
the response object as JSON. A :class:`HTTPError` reply answers with its status and the API's
error body. Every request to any path is recorded (method, path, headers, JSON body); a path the
server does not serve gets a 404 in the API's error shape, so a test can see what else a CLI
asked for.
"""

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.responses import Response as HTTPResponse
from starlette.routing import Route

from missionctl.demo.recorded_request import RecordedToolRequest
from missionctl.demo.threaded_server import HTTPError, RecordingServer


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class Text:
    """An assistant message of the model's reply."""

    text: str
    id: str = field(default_factory=lambda: _new_id("msg"))


@dataclass(frozen=True)
class FunctionCall:
    """A ``function_call`` item: the model asks the CLI to run tool ``name`` with ``arguments``."""

    name: str
    arguments: dict[str, Any]
    call_id: str = field(default_factory=lambda: _new_id("call"))
    id: str = field(default_factory=lambda: _new_id("fc"))


@dataclass(frozen=True)
class CustomToolCall:
    """A ``custom_tool_call`` item: a free-form tool (Codex's ``apply_patch``) with ``input``."""

    name: str
    input: str
    call_id: str = field(default_factory=lambda: _new_id("call"))
    id: str = field(default_factory=lambda: _new_id("ctc"))


Item = Text | FunctionCall | CustomToolCall


@dataclass(frozen=True)
class Response:
    """A 200 reply: the model's output items, in order, and the tokens it reports."""

    output: list[Item]
    input_tokens: int = 20
    output_tokens: int = 10


Reply = Response | HTTPError


@dataclass(frozen=True)
class RecordedRequest(RecordedToolRequest):
    """One request as the server received it, read as the Responses API."""

    @property
    def input(self) -> list[dict[str, Any]]:
        """The conversation the request carries (the Responses API's ``input`` items)."""
        items = (self.body or {}).get("input", [])
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    @property
    def outputs(self) -> dict[str, str]:
        """What each tool call of the conversation returned, by ``call_id`` (oldest first)."""
        found: dict[str, str] = {}
        for item in self.input:
            if item.get("type") in ("function_call_output", "custom_tool_call_output"):
                found[str(item.get("call_id"))] = _output_text(item.get("output"))
        return found


Script = Callable[[RecordedRequest], Reply]


class ScriptedResponsesServer(RecordingServer[RecordedRequest]):
    """The Responses API (SSE and JSON) under uvicorn in a thread; ``script`` plays the model."""

    thread_name = "scripted-responses"
    base_path = "/v1"  # the provider's base_url; the CLI appends /responses

    def __init__(self, script: Script) -> None:
        """``script`` answers each ``POST /v1/responses`` with the conversation so far."""
        self.script = script
        super().__init__(RecordedRequest)

    @property
    def agent_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/responses`` requests (the agent's turns), oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/responses"]

    # -- the app ---------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/responses", self._responses, methods=["POST"]),
                Route("/{path:path}", self._other, methods=["GET", "POST", "PUT", "HEAD"]),
            ]
        )

    async def _other(self, request: Request) -> HTTPResponse:
        await self._log.record(request)
        message = f"not served by the scripted model: {request.method} {request.url.path}"
        return HTTPError(404, message, "invalid_request_error", "not_found").response()

    async def _responses(self, request: Request) -> HTTPResponse:
        recorded = await self._log.record(request)
        body = recorded.body or {}
        reply = self.script(recorded)
        if isinstance(reply, HTTPError):
            return reply.response()
        model = str(body.get("model", "scripted-model"))
        if body.get("stream"):
            return StreamingResponse(_events(reply, model), media_type="text/event-stream")
        return JSONResponse(_response(reply, model, status="completed"))


def _output_text(output: Any) -> str:
    """A tool call's output, whether sent as a string or as content items."""
    if isinstance(output, list):
        return "".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
    return str(output or "")


def _item(item: Item, *, done: bool) -> dict[str, Any]:
    """``item`` as the API shows it: complete when ``done``, else as just added (empty)."""
    status = "completed" if done else "in_progress"
    if isinstance(item, Text):
        content = [{"type": "output_text", "text": item.text, "annotations": []}] if done else []
        return {
            "type": "message", "id": item.id, "status": status, "role": "assistant",
            "content": content,
        }  # fmt: skip
    if isinstance(item, FunctionCall):
        return {
            "type": "function_call", "id": item.id, "status": status, "name": item.name,
            "call_id": item.call_id, "arguments": json.dumps(item.arguments) if done else "",
        }  # fmt: skip
    return {
        "type": "custom_tool_call", "id": item.id, "status": status, "name": item.name,
        "call_id": item.call_id, "input": item.input if done else "",
    }  # fmt: skip


def _usage(reply: Response) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": reply.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def _response(reply: Response, model: str, *, status: str, rid: str = "") -> dict[str, Any]:
    """The response object: empty while ``in_progress``, with its output and usage after."""
    finished = status == "completed"
    return {
        "id": rid or _new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": [_item(item, done=True) for item in reply.output] if finished else [],
        "usage": _usage(reply) if finished else None,
        "error": None,
    }


def _delta(index: int, item: Item) -> tuple[str, dict[str, Any]]:
    """The one delta event that streams ``item``'s content: its kind and its data."""
    where: dict[str, Any] = {"item_id": item.id, "output_index": index}
    if isinstance(item, Text):
        return "response.output_text.delta", where | {"content_index": 0, "delta": item.text}
    if isinstance(item, FunctionCall):
        arguments = json.dumps(item.arguments)
        return "response.function_call_arguments.delta", where | {"delta": arguments}
    return "response.custom_tool_call_input.delta", where | {"delta": item.input}


async def _events(reply: Response, model: str) -> AsyncIterator[str]:
    """The SSE events of ``reply``, as the API streams them."""
    sequence = iter(range(1_000_000))

    def event(kind: str, data: dict[str, Any]) -> str:
        payload = {"type": kind, "sequence_number": next(sequence), **data}
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n"

    rid = _new_id("resp")
    started = _response(reply, model, status="in_progress", rid=rid)
    yield event("response.created", {"response": started})
    yield event("response.in_progress", {"response": started})
    for index, item in enumerate(reply.output):
        yield event(
            "response.output_item.added", {"output_index": index, "item": _item(item, done=False)}
        )
        yield event(*_delta(index, item))
        yield event(
            "response.output_item.done", {"output_index": index, "item": _item(item, done=True)}
        )
    done = _response(reply, model, status="completed", rid=rid)
    yield event("response.completed", {"response": done})
