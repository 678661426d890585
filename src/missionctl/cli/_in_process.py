"""The API in this process: how a command without a server reaches the same routes (ADR 0089).

Without ``MISSIONCTL_URL`` a command still talks to ``/api/v1``: ``InProcessTransport`` hands
each request to the routes of ``missionctl.api.app.api_app`` on the command's own event loop
(``LocalSession``), in this thread, acting as the identity it was given (``system``, or the
user of ``--as``). So a command takes one code path whether Mission Control is a server away
or in this process: the same routes validate, authorize and answer, and the same client reads
the answer.

The identity rides in the request's ASGI scope (``security.guard.IN_PROCESS_IDENTITY``), a key
that no server puts there: only code in this process can set it.

A response is read as the app sends it: its body is a stream that runs the event loop until
the next chunk arrives, so a download is written as it comes and an endless stream (the event
feed) can be followed. Closing the stream tells the app its client has gone.
"""

import asyncio
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import httpx2

from missionctl.security.guard import IN_PROCESS_IDENTITY

if TYPE_CHECKING:
    from missionctl.cli._runtime import LocalSession
    from missionctl.domain.access import Identity

# What the app's ``send`` puts on a response's queue: a start, a chunk, or the end (an error).
_Message = tuple[str, Any]


class InProcessTransport(httpx2.BaseTransport):
    """An HTTP transport that serves each request with the local API app, as ``identity``.

    Args:
        session: the command's session: its event loop runs the app, its context serves it.
        identity: who every request acts as.
    """

    def __init__(self, session: "LocalSession", identity: "Identity") -> None:
        self._session = session
        self._identity = identity

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Start the app on ``request`` and return once it has sent the response's start."""
        from missionctl.api.app import include_routes_for

        app = self._session.api()
        include_routes_for(app, request.url.path)
        body: bytes | None = request.read()
        queue: asyncio.Queue[_Message] = asyncio.Queue()
        gone = asyncio.Event()
        scope = self._scope(request)

        async def receive() -> MutableMapping[str, Any]:
            nonlocal body
            if body is not None:
                chunk, body = body, None
                return {"type": "http.request", "body": chunk, "more_body": False}
            await gone.wait()  # nothing more to send: the next message is the client leaving
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                queue.put_nowait(("start", message))
            elif message["type"] == "http.response.body":
                queue.put_nowait(("chunk", message.get("body", b"")))
                if not message.get("more_body", False):
                    queue.put_nowait(("end", None))

        async def serve() -> None:
            try:
                await app(scope, receive, send)
            except BaseException as exc:  # handed to the reader, who raises it in its place
                queue.put_nowait(("end", exc))
                raise
            queue.put_nowait(("end", None))

        task = self._session.start(serve())
        kind, start = self._session.wait(queue.get())
        if kind != "start":  # the app ended without answering
            self._session.settle(task)
            raise start if isinstance(start, BaseException) else RuntimeError("no response")
        stream = _ResponseStream(self._session, queue, gone, task)
        return httpx2.Response(
            start["status"],
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
            stream=stream,
            request=request,
        )

    def _scope(self, request: httpx2.Request) -> dict[str, Any]:
        url = request.url
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": None,
            "server": None,
            "state": {},
            IN_PROCESS_IDENTITY: self._identity,
        }


class _ResponseStream(httpx2.SyncByteStream):
    """A response's body as the app sends it; closing it early tells the app the client left."""

    def __init__(
        self,
        session: "LocalSession",
        queue: "asyncio.Queue[_Message]",
        gone: asyncio.Event,
        task: "asyncio.Task[None]",
    ) -> None:
        self._session = session
        self._queue = queue
        self._gone = gone
        self._task = task

    def __iter__(self) -> Iterator[bytes]:
        """Each chunk of the body, running the loop until it arrives; raises the app's error."""
        while True:
            kind, value = self._session.wait(self._queue.get())
            if kind == "chunk":
                if value:
                    yield value
            elif kind == "end":
                if isinstance(value, BaseException):
                    raise value
                return

    def close(self) -> None:
        """Let the app finish: a stream still sending is told its client has gone."""
        self._gone.set()
        self._session.settle(self._task)
