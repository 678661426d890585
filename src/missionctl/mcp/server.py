"""The MCP server: Mission Control's resources and tools, over any transport.

``build_server(resolve)`` returns one ``MCPServer`` holding every tool (``TOOLS``) and resource
(``resources.RESOURCES``); ``resolve`` is how its transport finds the caller of each message
(``mcp.http`` over Streamable HTTP, ``mcp.stdio`` over stdin/stdout).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from missionctl import __version__
from missionctl.mcp import tools_governance, tools_work
from missionctl.mcp.caller import Resolve, caller_middleware
from missionctl.mcp.declared import add_tool
from missionctl.mcp.resources import register_resources
from missionctl.operations.catalogue import OPERATIONS

INSTRUCTIONS = (
    "Mission Control is the system of record between a software goal and its execution by AI "
    "agents. Create a mission, plan it, then work its tasks: read the pack "
    "(missionctl://missions/{id}/pack, get_task_pack), report progress on each task "
    "(report_task_progress) and its result (report_task_result). Or start a run that the "
    "engine executes (start_run). Every call acts as your API token's identity and role."
)

_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
_STOP = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)

Tool = Callable[..., Awaitable[Any]]
TOOLS: tuple[tuple[Tool, ToolAnnotations], ...] = (
    (tools_work.create_mission, _WRITE),
    (tools_work.plan_mission, _WRITE),
    (tools_work.start_run, _WRITE),
    (tools_work.get_task_pack, _READ),
    (tools_work.report_task_progress, _WRITE),
    (tools_work.report_task_result, _WRITE),
    (tools_governance.list_approvals, _READ),
    (tools_governance.decide_approval, _WRITE),
    (tools_governance.emergency_stop, _STOP),
)
"""The hand-written tools and how each behaves (read-only, or a change; the stop is destructive).

Declared operations with ``mcp=True`` are offered beside them (``mcp.declared``)."""


def build_server(resolve: Resolve) -> MCPServer[Any]:
    """Mission Control's MCP server, whose every message's caller ``resolve`` finds."""
    server: MCPServer[Any] = MCPServer(
        "missionctl",
        title="Mission Control",
        version=__version__,
        instructions=INSTRUCTIONS,
        middleware=[caller_middleware(resolve)],
    )
    for tool, annotations in TOOLS:
        server.add_tool(tool, annotations=annotations, structured_output=False)
    for operation in OPERATIONS:  # the declared ones (missionctl.operations, ADR 0090)
        if operation.mcp:
            add_tool(server, operation)
    register_resources(server)
    return server
