"""Refuse request bodies over a size limit before anything reads them.

``BodyLimitMiddleware`` sits in front of the sessions and the routes, so an oversized request
costs neither a cookie check, nor an authentication, nor a read of its body: it is answered
``413`` with the API's error shape (``{"error": {"code": "body_too_large", ...}}``). A request
that declares its length (``Content-Length``) is judged before its first byte is read; a
chunked one is counted as it streams, and the app sees the client go away at the first chunk
past the limit (the 413 is sent then, unless the app already answered).

The limit is ``MISSIONCTL_SERVER_MAX_BODY_BYTES``; its default fits the largest body the app
takes, a workflow definition of ``MAX_DEFINITION_BYTES`` sent from the editor's form, where URL
encoding can make each byte three.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from missionctl.domain.numbers import ascii_int
from missionctl.schemas.errors import ErrorBody, ErrorInfo

SETTING = "MISSIONCTL_SERVER_MAX_BODY_BYTES"


def too_large_body(max_bytes: int) -> bytes:
    """The JSON error body of a refused request."""
    error = ErrorInfo(
        code="body_too_large",
        message=f"the request body is larger than {max_bytes} bytes; send a smaller one "
        f"(the server's limit is {SETTING})",
        field="body",
    )
    return json.dumps(ErrorBody(error=error).model_dump(mode="json")).encode("utf-8")


class BodyLimitMiddleware:
    """Answers ``413`` to a request whose body is larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversized body at once; otherwise count the body as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        counter = _Counter(self.max_bytes, receive, send)
        await self.app(scope, counter.receive, counter.send)


async def _refuse(send: Send, max_bytes: int) -> None:
    body = too_large_body(max_bytes)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                # The rest of the body is never read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Counter:
    """One request's ``receive`` and ``send``, counting body bytes and stopping at the limit."""

    def __init__(self, max_bytes: int, receive: Receive, send: Send) -> None:
        self._max_bytes = max_bytes
        self._receive = receive
        self._send = send
        self._received = 0
        self._started = False  # a response has begun (ours or the app's)
        self._refused = False

    async def receive(self) -> Message:
        if self._refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._max_bytes:
                # The app sees the client leave (it stops reading); the client gets the 413.
                self._refused = True
                if not self._started:
                    self._started = True
                    await _refuse(self._send, self._max_bytes)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._refused:
            return  # we answered already; whatever the app says now goes nowhere
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    """The declared body length, or ``None`` when absent or unreadable (then it is counted)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return ascii_int(value.decode("latin-1").strip())
    return None
