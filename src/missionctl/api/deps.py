"""Dependencies routes declare through ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from missionctl.services import ServiceContext


def get_context(request: Request) -> ServiceContext:
    """The service context the app's lifespan built."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def get_actor(request: Request) -> str:
    """Who is asking. Until sign-in exists, every request acts as the local operator."""
    return "user:local"


Context = Annotated[ServiceContext, Depends(get_context)]
Actor = Annotated[str, Depends(get_actor)]
