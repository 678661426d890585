"""The ``/api/v1`` routes as an app of their own, for a command that runs them in process.

``missionctl.app.create_app`` serves these routes beside the pages, the MCP endpoint and the
background work of a server. A command without a server (ADR 0089) needs the routes alone:
the same validation, permissions, use cases and error bodies, with nothing running beside
them, and only the routes it asks for (``include_routes_for``), so that it imports no more
than they need. The caller sets ``app.state.ctx`` and ``app.state.open_runtime`` before the
first request.
"""

from fastapi import FastAPI

from missionctl import __version__
from missionctl.api.errors import install_error_handlers
from missionctl.api.router import build_api_router, modules_serving
from missionctl.security.body_limit import BodyLimitMiddleware
from missionctl.security.limits import EdgeLimits
from missionctl.settings import Settings


def api_app(settings: Settings) -> FastAPI:
    """The API's error handlers and body limit, without routes or a lifespan of their own."""
    app = FastAPI(
        title="Mission Control",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.limits = EdgeLimits.from_settings(settings.server)
    app.state.included = frozenset[str]()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    return app


def include_routes_for(app: FastAPI, path: str) -> None:
    """Include in ``app`` the route modules that serve ``path``, each once."""
    included: frozenset[str] = app.state.included
    missing = tuple(module for module in modules_serving(path) if module not in included)
    if missing:
        app.include_router(build_api_router(missing))
        app.state.included = included | set(missing)
