"""Who calls a tool or reads a resource, and what they may do (the same permissions as routes).

Every message a client sends passes ``caller_middleware`` first: the transport resolves its
caller (the service context, the planner, the identity of the API token and the client's
address) and the handlers read it with :func:`current`. Over HTTP the route has already
authenticated the request (``security.guard``); over stdio the token given at start is checked
again for every message, so a token revoked or demoted meanwhile applies at once.

:func:`permitted` checks one ``Permission`` for one tool or resource: refused, it records
``access.denied`` as a refused route does (at most as often as ``EdgeLimits`` admits) and
raises ``PermissionDenied``, whose message names the permission and the least role that holds it.
"""

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import ValidationError

from missionctl.domain.access import Identity, Permission
from missionctl.errors import EventLogUnavailable, MissionControlError, PermissionDenied
from missionctl.planning import Planner
from missionctl.security.guard import least_role
from missionctl.security.limits import EdgeLimits
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity as identity_service

__all__ = [
    "Caller",
    "Resolve",
    "caller_middleware",
    "current",
    "permitted",
    "resource_errors",
    "tool_errors",
]


@dataclass(frozen=True, slots=True)
class Caller:
    """One message's caller: where the services are, and who acts (``identity.actor``)."""

    ctx: ServiceContext
    planner: Planner
    identity: Identity
    limits: EdgeLimits
    address: str | None  # the HTTP client's address; None over stdio
    transport: str  # "http" or "stdio", for the denial record


Resolve = Callable[[ServerRequestContext[Any, Any]], Awaitable[Caller]]
"""How a transport finds the caller of one message (raises ``MCPError`` when there is none)."""

_CALLER: ContextVar[Caller | None] = ContextVar("missionctl_mcp_caller", default=None)


def caller_middleware(resolve: Resolve) -> ServerMiddleware[Any]:
    """Server middleware that resolves each message's caller and keeps it for its handler."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = _CALLER.set(await resolve(ctx))
        try:
            return await call_next(ctx)
        finally:
            _CALLER.reset(token)

    return middleware


def current() -> Caller:
    """The caller of the message being handled.

    Raises:
        RuntimeError: outside a message (a handler called without the middleware).
    """
    caller = _CALLER.get()
    if caller is None:
        raise RuntimeError("no MCP caller: the server's middleware resolves one per message")
    return caller


async def permitted(permission: Permission, what: str) -> Caller:
    """The caller, who must hold ``permission`` to use ``what`` (``tool NAME``, a resource URI).

    Raises:
        PermissionDenied: the caller's role lacks it; ``access.denied`` is recorded (rate-limited).
    """
    caller = current()
    if caller.identity.allows(permission):
        return caller
    role = caller.identity.role.value
    dropped = await caller.limits.admit_denial(caller.identity.actor, caller.address)
    if dropped is not None:
        # The refusal stands whether or not it is recorded (as at the HTTP edge).
        with contextlib.suppress(EventLogUnavailable):
            await identity_service.record_denial(
                caller.ctx,
                actor=caller.identity.actor,
                status=403,
                method=f"MCP/{caller.transport}",
                path=what,
                permission=permission.value,
                reason=f"role {role} lacks {permission}",
                address=caller.address,
                dropped=dropped,
            )
    raise PermissionDenied(
        f"{what} needs the {permission.value} permission: the {least_role(permission)} role or "
        f"above; this token acts as {role}. Nothing was changed."
    )


def _message(exc: Exception) -> str:
    """An error as the client reads it: each problem with the field to fix."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
    assert isinstance(exc, MissionControlError)
    if exc.field and not exc.message.startswith(exc.field):
        return f"{exc.field}: {exc.message}"
    return exc.message


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """Turn our errors and invalid arguments inside a tool into its error result."""
    try:
        yield
    except (MissionControlError, ValidationError) as exc:
        raise ToolError(_message(exc)) from exc


@contextlib.contextmanager
def resource_errors() -> Iterator[None]:
    """Turn our errors inside a resource into a resource error naming the field at fault."""
    try:
        yield
    except (MissionControlError, ValidationError) as exc:
        raise ResourceError(_message(exc)) from exc
