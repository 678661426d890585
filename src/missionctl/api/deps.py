"""Dependencies routes declare through ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from missionctl.services import ServiceContext
from missionctl.services.runtime import Runtime


def get_context(request: Request) -> ServiceContext:
    """The service context the app's lifespan built."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def get_runtime(request: Request) -> Runtime:
    """The planner and agents the settings chose."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_actor(request: Request) -> str:
    """Who is asking. Until sign-in exists, every request acts as the local operator."""
    return "user:local"


Context = Annotated[ServiceContext, Depends(get_context)]
Actor = Annotated[str, Depends(get_actor)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
