"""Dependencies routes declare through ``Annotated`` aliases.

Every route declares the permission it needs (``missionctl.security.guard``): a route that
acts takes ``who: Annotated[Identity, requires(P.X)]`` and records ``who.actor``; a route that
only reads puts ``requires(P.X)`` in its decorator's ``dependencies``.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from missionctl.domain.access import Identity
from missionctl.domain.access import Permission as P
from missionctl.security.guard import Authentication, public, requires
from missionctl.services import ServiceContext

if TYPE_CHECKING:
    # Imported for types only: the runtime's modules (the planner, the model client, the
    # agents) load where a runtime is built, not for every route (ADR 0089).
    from missionctl.services.runtime.composition import Runtime


def get_context(request: Request) -> ServiceContext:
    """The service context the app's lifespan built."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def get_runtime(request: Request) -> "Runtime":
    """The planner and agents the settings chose.

    A server's lifespan builds them at start; an app in a command's process builds them the
    first time a route needs them (``app.state.open_runtime``).
    """
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        open_runtime: Callable[[], Awaitable[Runtime]] = request.app.state.open_runtime
        runtime = request.app.state.runtime = await open_runtime()
    return runtime


def run_trigger(request: Request) -> str:
    """What a run started by this request says started it (``trigger``).

    ``cli`` for a command on this machine (the API in its process, ADR 0089), else ``api``.
    """
    auth: Authentication | None = getattr(request.state, "authentication", None)
    return "cli" if auth is not None and auth.via == "process" else "api"


Context = Annotated[ServiceContext, Depends(get_context)]
if TYPE_CHECKING:
    RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
else:  # FastAPI reads the type at import; the dependency, not the type, gives the value.
    RuntimeDep = Annotated[Any, Depends(get_runtime)]
Trigger = Annotated[str, Depends(run_trigger)]

__all__ = ["Context", "Identity", "P", "RuntimeDep", "Trigger", "public", "requires"]
