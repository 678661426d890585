"""Dependencies routes declare through ``Annotated`` aliases.

Every route declares the permission it needs (``missionctl.security.guard``): a route that
acts takes ``who: Annotated[Identity, requires(P.X)]`` and records ``who.actor``; a route that
only reads puts ``requires(P.X)`` in its decorator's ``dependencies``.
"""

from typing import Annotated

from fastapi import Depends, Request

from missionctl.domain.access import Identity
from missionctl.domain.access import Permission as P
from missionctl.security.guard import public, requires
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import Runtime


def get_context(request: Request) -> ServiceContext:
    """The service context the app's lifespan built."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def get_runtime(request: Request) -> Runtime:
    """The planner and agents the settings chose."""
    runtime: Runtime = request.app.state.runtime
    return runtime


Context = Annotated[ServiceContext, Depends(get_context)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

__all__ = ["Context", "Identity", "P", "RuntimeDep", "public", "requires"]
