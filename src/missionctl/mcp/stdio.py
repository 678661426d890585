"""The MCP server over stdin/stdout, on the local database, as the identity of one API token.

``missionctl mcp`` runs it for a client that starts the server itself (Claude Code, Codex and
most desktop clients). The token is checked before anything is served and again for every
message, so that revoking it (or lowering its owner's role) applies at once. Nothing but the
protocol reaches stdout: logs go to stderr.

It starts no engine: a run it starts is executed by ``missionctl serve`` or a ``missionctl
worker`` on the same database.
"""

import logging
import sys
from typing import Any

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST

from missionctl.errors import NotAuthenticated
from missionctl.mcp.bounded_stdin import bounded_stdin
from missionctl.mcp.caller import Caller
from missionctl.mcp.server import build_server
from missionctl.security.limits import EdgeLimits
from missionctl.services import open_context
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases import identity as identity_service
from missionctl.settings import Settings

TOKEN_HELP = (
    "make one with `missionctl token create NAME --user USER` and pass it as MISSIONCTL_TOKEN "
    "(or --token)"
)


async def serve_stdio(settings: Settings, *, token: str) -> None:
    """Serve MCP on stdin/stdout until the client closes stdin.

    Raises:
        NotAuthenticated: the token is unknown, revoked or expired, or its owner is disabled
            (checked before the first message is read).
    """
    logging.basicConfig(
        stream=sys.stderr,
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    async with open_context(settings) as ctx, open_runtime(settings) as runtime:
        if await identity_service.authenticate_token(ctx, secret=token) is None:
            raise NotAuthenticated(f"the API token is unknown, revoked or expired; {TOKEN_HELP}")
        limits = EdgeLimits.from_settings(settings.server)

        async def resolve(message: ServerRequestContext[Any, Any]) -> Caller:
            identity = await identity_service.authenticate_token(ctx, secret=token)
            if identity is None:
                raise MCPError(
                    INVALID_REQUEST,
                    f"the API token was revoked or has expired since the server started; "
                    f"{TOKEN_HELP}",
                )
            return Caller(
                ctx=ctx,
                planner=runtime.planner,
                identity=identity,
                limits=limits,
                address=None,
                transport="stdio",
            )

        await _serve(build_server(resolve), limit=settings.server.max_body_bytes)


async def _serve(server: MCPServer[Any], *, limit: int) -> None:
    """Run ``server`` over stdin and stdout, each message at most ``limit`` characters."""
    with bounded_stdin(limit) as lines:
        async with stdio_server(stdin=anyio.wrap_file(lines)) as (read_stream, write_stream):
            # What ``MCPServer.run_stdio_async`` does, with a stdin of our own.
            lowlevel = server._lowlevel_server
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
