"""The ``/api/v1`` routes as an app of their own, for a command that runs them in process.

``missionctl.app.create_app`` serves these routes beside the pages, the MCP endpoint and the
background work of a server. A command without a server (ADR 0089) needs the routes alone:
the same validation, permissions, use cases and error bodies, with nothing running beside
them. The caller sets ``app.state.ctx`` and ``app.state.runtime`` before the first request.
"""

from fastapi import FastAPI

from missionctl import __version__
from missionctl.api.errors import install_error_handlers
from missionctl.api.router import api_router
from missionctl.security.body_limit import BodyLimitMiddleware
from missionctl.security.limits import EdgeLimits
from missionctl.services.usecases.health import HealthSummaryCache
from missionctl.settings import Settings


def api_app(settings: Settings) -> FastAPI:
    """The API's routes, error handlers and body limit, without a lifespan of their own."""
    app = FastAPI(
        title="Mission Control",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.limits = EdgeLimits.from_settings(settings.server)
    app.state.health_summary = HealthSummaryCache()
    install_error_handlers(app)
    app.include_router(api_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    return app
