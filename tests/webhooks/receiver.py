"""A real HTTP receiver on 127.0.0.1 for webhook tests: scripted answers, recorded requests."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = -1
"""A scripted answer: hold the request without answering until the receiver is released."""


@dataclass
class Received:
    """One request as the receiver read it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers requests with ``script`` in turn (then 200), records each; ``url`` to send to."""

    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    answer_body: bytes = b"ok"
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200


@contextmanager
def receiving(script: list[int] | None = None, answer_body: bytes = b"ok") -> Iterator[Receiver]:
    """A receiver serving on a free port of 127.0.0.1 for the duration of the block."""
    receiver = Receiver(script=list(script or []), answer_body=answer_body)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            receiver.arrived.set()
            status = receiver.next_status()
            if status == HANG:
                receiver.released.wait(30)
                return
            self.send_response(status)
            self.send_header("Content-Length", str(len(receiver.answer_body)))
            self.end_headers()
            self.wfile.write(receiver.answer_body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test reads what it needs from ``requests``

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
