"""The floor of ``bench/load.py``: the real server's answers, served from memory.

``python bench/_load_floor.py CAPTURED.json PORT LOG_LEVEL`` serves, on 127.0.0.1:PORT, a bare
ASGI app that answers each captured path (with its query) with the status, headers and body
the real server gave it, under the server stack ``missionctl serve`` runs: uvicorn with uvloop,
httptools, no WebSocket, the same log level (so an access line per request, as there). What a
page costs the real server above this floor is the product's own work.
"""

import base64
import json
import sys
from pathlib import Path
from typing import Any

import uvicorn

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def load_answers(path: Path) -> dict[str, Answer]:
    """The captured answers by path (``/runs?x=1``), ready to send."""
    captured = json.loads(path.read_text())["answers"]
    return {
        url: (
            answer["status"],
            [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]],
            base64.b64decode(answer["body"]),
        )
        for url, answer in captured.items()
    }


def make_app(answers: dict[str, Answer]) -> Any:
    """The bare ASGI app: a dictionary lookup per request."""
    missing: Answer = (404, [(b"content-type", b"text/plain")], b"not captured")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"].rpartition(".")[2]  # startup, shutdown
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        query = scope["query_string"].decode("latin-1")
        status, headers, body = answers.get(scope["path"] + (f"?{query}" if query else ""), missing)
        length = (b"content-length", str(len(body)).encode())
        await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    captured, port, log_level = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    uvicorn.run(
        make_app(load_answers(captured)),
        host="127.0.0.1",
        port=port,
        log_level=log_level,
        loop="uvloop",
        http="httptools",
        ws="none",
    )


if __name__ == "__main__":
    main()
