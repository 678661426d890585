"""Every declared operation is offered on each face it names, under its one permission.

The faces: its route, its command (locally through the API in process, remotely over HTTP:
the same client), and its MCP tool when it is offered there.

The faces are made from the declarations (``missionctl.operations``); these tests check that
what was made matches what was declared, so that a declaration cannot name a use case that is
missing, a command that does not exist, or a permission its route does not demand.
"""

import uuid
from pathlib import Path
from typing import Any

import pytest
import typer.main
from mcp_types import CallToolResult, TextContent

from mcp import Client
from missionctl.api.declared import NEEDS as ROUTE_NEEDS
from missionctl.app import create_app
from missionctl.cli import app as cli_app
from missionctl.cli._runtime import LocalSession
from missionctl.cli.remote import RemoteClient
from missionctl.domain.access import ROLES, Identity, Permission, Role, allows
from missionctl.mcp.caller import Caller
from missionctl.mcp.server import build_server
from missionctl.operations import Operation, use_case
from missionctl.operations.catalogue import OPERATIONS
from missionctl.security.guard import route_table
from missionctl.security.limits import EdgeLimits
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import make_planner
from missionctl.settings import Settings

DECLARED = pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)


def _least_rank(permission: Permission) -> int:
    return next(rank for rank, role in enumerate(ROLES) if allows(role, permission))


def test_names_and_routes_are_unique() -> None:
    names = [op.name for op in OPERATIONS]
    routes = [(op.method, op.path) for op in OPERATIONS]
    assert len(set(names)) == len(names) and len(set(routes)) == len(routes)


@DECLARED
def test_the_use_case_exists_and_takes_what_the_declaration_fills(op: Operation[Any]) -> None:
    # Each face fills what it can: the declaration names nothing neither fills.
    use_case(op, provided=ROUTE_NEEDS)  # raises LookupError naming what is missing


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Permission | None]:
    """The permission of each (method, path) the app serves, read from one app per module.

    The route table is made from the declarations when the app is built, whatever its database
    holds: one app answers for every operation as well as an app per operation did (which cost
    most of this module's time).
    """
    settings = Settings(home=tmp_path_factory.mktemp("routes") / "home")
    return {
        (method, entry.path): entry.permission
        for entry in route_table(create_app(settings))
        for method in entry.methods
    }


@DECLARED
def test_the_route_is_served_with_the_declared_permission(
    op: Operation[Any], served: dict[tuple[str, str], Permission | None]
) -> None:
    assert served[(op.method, f"/api/v1{op.path}")] == op.permission


@pytest.fixture(scope="module")
def cli_command() -> Any:
    """The CLI's click command tree, made once per module (as each command line makes it)."""
    return typer.main.get_command(cli_app)


@DECLARED
def test_the_command_exists(op: Operation[Any], cli_command: Any) -> None:
    if op.cli is None:
        pytest.skip("offered on no command")
    command: Any = cli_command
    for word in op.cli.split():
        group = getattr(command, "commands", None)  # a group lists its commands
        assert group is not None, f"{op.cli!r}: {word!r} is under a command, not a group"
        assert word in group, f"{op.cli!r}: no command {word!r}"
        command = group[word]


def _status(op: Operation[Any], identity: Identity) -> int:
    """The status of ``op`` sent through the API in this process as ``identity``."""
    path = op.url(**{name: str(uuid.uuid4()) for name in op.path_parameters})
    body = {} if op.body is not None else None
    with LocalSession() as session, RemoteClient.in_process(session, identity) as client:
        return client._http.request(op.method, path, json=body).status_code


@DECLARED
def test_the_least_role_passes_and_the_role_below_is_refused(
    op: Operation[Any], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    rank = _least_rank(op.permission)
    least = ROLES[rank]
    assert _status(op, Identity(f"user:{least}", least.value, least)) not in (401, 403)
    if rank:
        below = ROLES[rank - 1]
        assert _status(op, Identity(f"user:{below}", below.value, below)) == 403


OFFERED_ON_MCP = pytest.mark.parametrize(
    "op", [op for op in OPERATIONS if op.mcp], ids=lambda op: op.name
)


async def _tool_answer(
    op: Operation[Any], role: Role, ctx: ServiceContext, settings: Settings
) -> tuple[list[str], CallToolResult]:
    """The server's tools, and ``op``'s tool called as ``role`` with made-up arguments."""

    async def resolve(_: object) -> Caller:
        identity = Identity(f"user:{role.value}", role.value, role)
        limits = EdgeLimits.from_settings(settings.server)
        return Caller(ctx, make_planner(None), identity, limits, None, "stdio")

    arguments: dict[str, Any] = {name: str(uuid.uuid4()) for name in op.path_parameters}
    if op.body is not None:
        arguments["body"] = BODIES.get(op.name, {})
    async with Client(build_server(resolve)) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        return tools, await client.call_tool(op.name, arguments)


BODIES: dict[str, dict[str, Any]] = {
    "create_epic": {"name": "Launch"},
    "add_epic_missions": {"mission_ids": [str(uuid.uuid4())]},
    "remove_epic_missions": {"mission_ids": [str(uuid.uuid4())]},
}
"""The least body of a tool whose body has required fields: the tool's arguments are checked
before its permission, and this test is about the permission."""


def _text(result: CallToolResult) -> str:
    return " ".join(part.text for part in result.content if isinstance(part, TextContent))


@OFFERED_ON_MCP
async def test_the_tool_is_offered_under_the_declared_permission(
    op: Operation[Any], ctx: ServiceContext, settings: Settings
) -> None:
    rank = _least_rank(op.permission)
    tools, answer = await _tool_answer(op, ROLES[rank], ctx, settings)
    assert op.name in tools
    assert "permission" not in _text(answer), _text(answer)
    if rank:
        _, refused = await _tool_answer(op, ROLES[rank - 1], ctx, settings)
        assert refused.is_error and f"needs the {op.permission.value} permission" in _text(refused)
