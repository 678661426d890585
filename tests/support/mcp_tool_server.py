"""A small MCP server for tests, written with the SDK's server API (``MCPServer``).

Run as a program it serves over stdio (``python mcp_tool_server.py``); ``--garbage`` first
prints a line that is not JSON-RPC on stdout, as a broken server would. :func:`http_app` is the
same server over streamable HTTP, for a test to run under uvicorn; with ``token`` set, a request
without ``Authorization: Bearer <token>`` is refused.

Tools: ``echo`` (text), ``add`` (structured content), ``fail`` (a tool error), ``hang`` (never
answers), ``huge`` (a long text), ``deep`` (deeply nested structured content), ``read_file``
(what the server can read at a path), ``reach`` (whether a
TCP port on 127.0.0.1 answers), ``env`` (a variable of its environment), ``whoami`` (the
``Authorization`` header it received, over HTTP), ``attempts`` (the ``missionctl/*`` keys of
every call's ``_meta`` so far, kept in a file of its working directory; with ``crash_first``
the first call ends the server instead of answering, a failure a step may retry).
"""

import asyncio
import json
import os
import socket
import sys
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

server = MCPServer("missionctl-test-tools")


@server.tool()
def echo(text: str) -> str:
    """Return ``text`` as it came."""
    return text


@server.tool()
def add(a: int, b: int) -> dict[str, int]:
    """The sum, as structured content."""
    return {"sum": a + b}


@server.tool()
def fail(message: str) -> str:
    """A tool error carrying ``message``."""
    raise ToolError(message)


@server.tool()
async def hang() -> str:
    """Never answer."""
    await asyncio.sleep(3600)
    return "late"


@server.tool()
def huge(chars: int) -> str:
    """``chars`` characters of text."""
    return "x" * chars


@server.tool()
def deep(levels: int) -> dict[str, Any]:
    """Structured content nested ``levels`` deep."""
    value: dict[str, Any] = {"leaf": True}
    for _ in range(levels):
        value = {"inner": value}
    return value


@server.tool()
def read_file(path: str) -> str:
    """The file's text, or why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        return f"cannot read: {exc.strerror}"


@server.tool()
def env(name: str) -> str:
    """The value of the variable ``name`` in the server's environment ('' when unset)."""
    return os.environ.get(name, "")


@server.tool()
def reach(port: int) -> str:
    """Whether a TCP connection to 127.0.0.1:``port`` opens (``reached``) or why not."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return "reached"
    except OSError as exc:
        return f"unreachable: {exc.strerror or exc}"


@server.tool()
def whoami(ctx: Context) -> str:
    """The ``Authorization`` header of the request (over HTTP)."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", None)
    return "" if headers is None else str(headers.get("authorization", ""))


@server.tool()
def attempts(ctx: Context, crash_first: bool = False) -> dict[str, Any]:
    """Record this call's ``missionctl/*`` ``_meta`` keys; answer with every call's so far."""
    meta = ctx.request_context.meta or {}
    ours = {key: value for key, value in meta.items() if key.startswith("missionctl/")}
    with open("mcp-attempts.jsonl", "a+", encoding="utf-8") as log:
        log.write(json.dumps(ours) + "\n")
        log.seek(0)
        seen = [json.loads(line) for line in log]
    if crash_first and len(seen) == 1:
        os._exit(3)  # the connection closes mid-call, as a crashed server's does
    return {"seen": seen}


def http_app(token: str | None = None, *, stateless: bool = False) -> Any:
    """The server over streamable HTTP at ``/mcp`` (a Starlette app), guarded by ``token``.

    Stateful by default (a session id, answers as event streams); ``stateless``: plain JSON-RPC
    over one POST each.
    """
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = server.streamable_http_app(transport_security=security, stateless_http=stateless)
    if token is None:
        return app

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"no"})
                return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    if "--garbage" in sys.argv:
        print("this is not JSON-RPC", flush=True)
    # A careless server logs its credentials on stderr: the step's log must not keep them.
    print(f"starting; token={os.environ.get('TOOL_TOKEN', '')}", file=sys.stderr, flush=True)
    server.run()
