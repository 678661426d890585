"""Clients of the MCP server for tests: the SDK's own ``ClientSession`` over HTTP or stdio.

``http_session`` connects to a live server's ``/mcp`` with an API token; ``stdio_session``
spawns ``missionctl mcp`` on a settings' database with a token in ``MISSIONCTL_TOKEN``.
``call`` returns a tool's JSON (or text) and fails the test on an error result; ``refused``
returns an error result's text and fails the test if the call succeeded.
"""

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp.client import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity
from missionctl.settings import Settings
from tests.support.auth import ensure_user

SRC = Path(__file__).resolve().parents[2] / "src"


async def token_of(ctx: ServiceContext, user: str, role: Role, name: str | None = None) -> str:
    """A new API token's secret for ``user`` (created with ``role``); named ``name`` or
    ``<user>-mcp``, so that events name it ``token:<name>``."""
    await ensure_user(ctx, user, role)
    _, secret = await identity.create_token(
        ctx, user_name=user, name=name or f"{user}-mcp", actor="system"
    )
    return secret


@asynccontextmanager
async def http_session(base_url: str, token: str | None) -> AsyncIterator[ClientSession]:
    """An initialized MCP session with the server at ``base_url``/mcp, sending ``token``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{base_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def server_environment(settings: Settings, token: str | None) -> dict[str, str]:
    """The environment ``missionctl mcp`` runs with: the settings' home and database."""
    env = {
        "PYTHONPATH": str(SRC),
        "MISSIONCTL_HOME": str(settings.home),
        "MISSIONCTL_DATABASE_URL": settings.database_url,
        "MISSIONCTL_LOG_LEVEL": "WARNING",
        "MISSIONCTL_SANDBOX_MODE": "off",
    }
    if token is not None:
        env["MISSIONCTL_TOKEN"] = token
    return env


def mcp_command() -> list[str]:
    """How to start ``missionctl mcp`` with this interpreter and this checkout's code."""
    return [sys.executable, "-c", "from missionctl.cli import main; main()", "mcp"]


@asynccontextmanager
async def stdio_session(settings: Settings, token: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP session with ``missionctl mcp`` spawned on ``settings``' database."""
    command, *args = mcp_command()
    params = StdioServerParameters(
        command=command, args=args, env=server_environment(settings, token), cwd=os.getcwd()
    )
    async with (
        stdio_client(params, errlog=sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def _text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


async def call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    """Call ``tool``; its JSON result (or text), failing the test on an error result."""
    result = await session.call_tool(tool, arguments)
    text = _text(result)
    assert not result.is_error, f"{tool} failed: {text}"
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def refused(session: ClientSession, tool: str, **arguments: Any) -> str:
    """Call ``tool`` expecting an error result; its text."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, f"{tool} succeeded: {_text(result)[:300]}"
    return _text(result)


async def read_text(session: ClientSession, uri: str) -> str:
    """A resource's text."""
    result = await session.read_resource(uri)
    return "".join(getattr(c, "text", "") for c in result.contents)
