"""MCP tools made from operation declarations (``missionctl.operations``, ``mcp=True``).

``add_tool(server, op)`` offers ``op`` as the tool ``op.name``: its arguments are the path's
parameters (typed as the use case types them), the query's fields and, when it takes one, the
body as ``body``; its permission is checked first (``caller.permitted``, a refusal changes
nothing and is recorded as the route's is), then the use case runs as the caller's identity.
The answer is the operation's output as JSON: a list under ``items``, nothing as ``{}``.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, get_type_hints

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, TypeAdapter

from missionctl.mcp.caller import Caller, permitted, tool_errors
from missionctl.operations import Operation, UseCase, use_case

NEEDS: dict[str, Callable[[Caller], Any]] = {
    "planner": lambda caller: caller.planner,
    "user": lambda caller: caller.identity.person,
    "identity": lambda caller: caller.identity,
}
"""What a declared tool may be given by name (``Operation.needs``), from its caller."""

_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def add_tool(server: MCPServer[Any], op: Operation[Any]) -> None:
    """Offer ``op`` on ``server`` as a tool (read-only for a ``GET``, else a change)."""
    tool = _tool(op, use_case(op, provided=NEEDS))
    reads = op.method == "GET"
    annotations = ToolAnnotations(
        read_only_hint=reads,
        destructive_hint=False if reads else op.method == "DELETE",
        open_world_hint=False,
    )
    server.add_tool(tool, annotations=annotations, structured_output=False)


def _tool(op: Operation[Any], service: UseCase) -> Callable[..., Awaitable[dict[str, Any]]]:
    takes_actor = "actor" in inspect.signature(service).parameters
    answer: TypeAdapter[Any] = TypeAdapter(op.outputs)

    async def tool(**given: Any) -> dict[str, Any]:
        with tool_errors():
            caller = await permitted(op.permission, f"tool {op.name}")
            if op.body is not None:
                given[op.body_as] = given.pop("body")
            if takes_actor:
                given["actor"] = caller.identity.actor
            for name in op.needs:
                given[name] = NEEDS[name](caller)
            for name, permission in op.grants.items():
                given[name] = caller.identity.allows(permission)
            result = await service(caller.ctx, **given)
        if op.output is None:
            return {}
        dumped = answer.dump_python(result, mode="json")
        return {"items": dumped} if isinstance(dumped, list) else dict(dumped)

    tool.__name__ = op.name
    tool.__doc__ = f"{op.doc}\n\nNeeds {op.permission.value}."
    tool.__signature__ = _signature(op, service)  # type: ignore[attr-defined]
    return tool


def _signature(op: Operation[Any], service: UseCase) -> inspect.Signature:
    """The tool's arguments: the path's parameters, the query's fields, the body."""
    hints = get_type_hints(service)
    parameters = [inspect.Parameter(p, _KEYWORD, annotation=hints[p]) for p in op.path_parameters]
    if op.query is not None:
        parameters += [
            inspect.Parameter(name, _KEYWORD, annotation=info.annotation, default=info.default)
            for name, info in op.query.model_fields.items()
        ]
    if op.body is not None:
        body: type[BaseModel] = op.body
        parameters.append(inspect.Parameter("body", _KEYWORD, annotation=body))
    return inspect.Signature(parameters, return_annotation=dict[str, Any])
