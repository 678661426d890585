"""Streamable HTTP at ``/mcp``: the MCP server inside the app, behind the app's guard.

``POST /mcp`` is an ordinary route that declares its permission (``missions:read``, the least any
tool or resource needs), so the guard (``security.guard``) authenticates every request before
the SDK sees it: no token or a bad one is a 401, recorded as any refused request is. Only an
API token is accepted (``Authorization: Bearer <token>``); a browser's session cookie is not.
Each tool and resource then checks its own permission for the token's role.

The route hands the request to the SDK's session manager, run statelessly with JSON answers:
every request stands alone (any server process of a deployment can answer it) and carries its
own credential, resolved again for every message (``_resolve``). The manager needs its own run
context: ``McpHttp.running`` is entered by the app's lifespan.

The MCP server itself (its tools and resources) is built once per process and shared by every
app the process makes: it holds nothing of an app, since each message's caller, context and
planner are read from its request, and building it cost nine tenths of making an app. Each
app gets a session manager of its own.
"""

import asyncio
import functools
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST
from starlette.types import Receive, Scope, Send

from missionctl.domain.access import Identity
from missionctl.domain.access import Permission as P
from missionctl.errors import NotAuthenticated
from missionctl.mcp.caller import Caller
from missionctl.mcp.server import build_server
from missionctl.security.guard import GuardedRoute, authenticate, client_address, requires

PATH = "/mcp"
router = APIRouter(route_class=GuardedRoute)


async def _resolve(message: ServerRequestContext[Any, Any]) -> Caller:
    """The caller of a message that came over HTTP: the identity the guard authenticated."""
    request = message.request
    identity = getattr(request.state, "identity", None) if isinstance(request, Request) else None
    if not isinstance(request, Request) or not isinstance(identity, Identity):
        raise MCPError(INVALID_REQUEST, "no authenticated request carries this message")
    state = request.app.state
    return Caller(
        ctx=state.ctx,
        planner=state.runtime.planner,
        identity=identity,
        limits=state.limits,
        address=client_address(request),
        transport="http",
    )


@functools.cache
def shared_server() -> MCPServer[Any]:
    """The process's MCP server, whose every message's caller is the request's (``_resolve``)."""
    return build_server(_resolve)


# The SDK hands out the session manager its last ``streamable_http_app`` call made: two apps
# made at once on two threads must not swap theirs.
_MAKING_MANAGER = threading.Lock()


class McpHttp:
    """The app's session manager, serving the process's MCP server over HTTP."""

    def __init__(self, *, max_body_bytes: int) -> None:
        self.server = shared_server()
        with _MAKING_MANAGER:
            # Every request must carry an API token, which a browser never attaches on its
            # own, so the SDK's Host/Origin check (DNS rebinding) adds nothing, and it would
            # refuse a server reached under its public name (ADR 0063).
            self.server.streamable_http_app(
                streamable_http_path=PATH,
                stateless_http=True,
                json_response=True,
                max_request_body_size=max_body_bytes,
                transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            )
            self.manager: StreamableHTTPSessionManager = self.server.session_manager

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The session manager's run context (once per app: the app's lifespan).

        It runs in a task of its own: its task group must be left by the task that entered
        it, and whoever drives a lifespan (a server, a test's fixture) may end it from another.

        Raises:
            Exception: whatever stopped the session manager from starting.
        """
        started, stop = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with self.manager.run():
                started.set()
                await stop.wait()

        task = asyncio.create_task(hold(), name="missionctl-mcp-sessions")
        ready = asyncio.create_task(started.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if task.done():
            task.result()  # it ended before it started: raise why
        try:
            yield
        finally:
            stop.set()
            await task


class _Handover(Response):
    """A response that lets the SDK's session manager answer the request itself."""

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        super().__init__()
        self._manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request through the session manager (its body is still unread)."""
        await self._manager.handle_request(scope, receive, send)


# POST only: a stateless server has no stream to open (GET) nor session to end (DELETE), which
# the transport answers with 405, as FastAPI does for a method a route does not declare.
@router.post(PATH, include_in_schema=False)
async def mcp_endpoint(
    request: Request, who: Annotated[Identity, requires(P.MISSIONS_READ)]
) -> Response:
    """The MCP endpoint (Streamable HTTP); 401 without an API token."""
    if (await authenticate(request)).via != "token":
        raise NotAuthenticated(
            f"{who.actor} signed in with a browser session; MCP clients send an API token: "
            "'Authorization: Bearer <token>' (missionctl token create)"
        )
    mcp_http: McpHttp = request.app.state.mcp
    return _Handover(mcp_http.manager)
