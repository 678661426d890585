"""A Starlette app served by uvicorn on a thread, on a free port of 127.0.0.1.

Scripted model servers (``demo.anthropic_server``, which ``missionctl demo coding`` runs, and
the test suite's others) are real HTTP servers that programs reach over the network; this is
their shared lifecycle: start (returns once the server accepts connections), stop, and use as
a context manager. A thread, not the caller's event loop: the server must answer while that
loop waits on a step's program.
"""

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from missionctl.security.body_limit import BodyLimitMiddleware

R = TypeVar("R")


@dataclass(frozen=True)
class HTTPError:
    """An error status with the OpenAI APIs' error body (``{"error": {message, type, code}}``).

    What a scripted Chat Completions or Responses server answers instead of a reply.
    """

    status: int
    message: str = "scripted error"
    error_type: str = "server_error"
    code: str | None = None

    def response(self) -> JSONResponse:
        """The HTTP answer: the status and the error body."""
        error = {"message": self.message, "type": self.error_type, "param": None, "code": self.code}
        return JSONResponse({"error": error}, status_code=self.status)


# A coding CLI's request carries its whole conversation, files included: generous, not endless.
MAX_REQUEST_BYTES = 64 * 1024 * 1024


class ThreadedServer:
    """Serves :meth:`_app` on a thread; subclasses define the app and ``thread_name``."""

    thread_name = "threaded-server"

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def _app(self) -> Starlette:
        raise NotImplementedError

    def start(self) -> Self:
        """Start serving; returns once the server accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            # The body is read whole (``RequestLog.record``): bounded while it streams in.
            BodyLimitMiddleware(self._app(), max_bytes=MAX_REQUEST_BYTES),
            log_config=None,  # leave the process's logging configuration alone
            log_level="warning",
            lifespan="off",
            ws="none",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"{self.thread_name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                sock.close()
                raise RuntimeError(f"the {self.thread_name} server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end (uvicorn closes the socket)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RequestLog(Generic[R]):
    """Every request a scripted server received, oldest first, readable from any thread.

    ``make`` turns one request's facts into the server's record of it: its method, its path,
    its headers (names lower-cased) and its body when that is a JSON object (else ``None``).
    """

    def __init__(
        self, make: Callable[[str, str, dict[str, str], dict[str, Any] | None], R]
    ) -> None:
        """``make(method, path, headers, body)``: the record of one request."""
        self._make = make
        self._lock = threading.Lock()
        self._records: list[R] = []

    async def record(self, request: Request) -> R:
        """Read ``request``'s body, keep its record, and return it."""
        raw = await request.body()
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            value = None
        body = value if isinstance(value, dict) else None
        headers = {key.lower(): text for key, text in request.headers.items()}
        recorded = self._make(request.method, request.url.path, headers, body)
        with self._lock:
            self._records.append(recorded)
        return recorded

    def all(self) -> list[R]:
        """The records so far, oldest first (a copy)."""
        with self._lock:
            return list(self._records)


class RecordingServer(ThreadedServer, Generic[R]):
    """A :class:`ThreadedServer` that keeps a record of every request (``requests``).

    Subclasses call ``self._log.record(request)`` in their routes, and set ``base_path``: what
    ``base_url`` ends with, the part of the API's path a client is configured with.
    """

    base_path = ""

    def __init__(
        self, make: Callable[[str, str, dict[str, str], dict[str, Any] | None], R]
    ) -> None:
        """``make``: the record of one request (see :class:`RequestLog`)."""
        self._log = RequestLog(make)
        super().__init__()

    @property
    def base_url(self) -> str:
        """The URL a client is configured with: this server's address and ``base_path``."""
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def requests(self) -> list[R]:
        """Every request received so far, oldest first."""
        return self._log.all()
