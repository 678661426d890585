"""Composition root: build the FastAPI application from settings.

``missionctl serve`` hands uvicorn the import string ``missionctl.app:create_app`` (factory), so
importing this module has no side effects and tests build as many apps as they like.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from missionctl import __version__
from missionctl.api import metrics
from missionctl.api.errors import error_body_schemas, install_error_handlers
from missionctl.api.metrics import metrics_listener
from missionctl.api.router import build_api_router
from missionctl.api.routes import health
from missionctl.domain.workers import WorkerKind
from missionctl.engine.heap import freeze_startup_heap
from missionctl.engine.hooks import write_report_when_run_ends
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.mcp import http as mcp_http
from missionctl.security.body_limit import BodyLimitMiddleware
from missionctl.security.guard import route_table, undeclared_routes, unguarded_routes
from missionctl.security.headers import SecurityHeadersMiddleware
from missionctl.security.limits import EdgeLimits, SharedCounts, shares_limits
from missionctl.security.process import register_server_secrets, restrict_process, warn_if_shared
from missionctl.security.session_key import SessionKeySource
from missionctl.security.sessions import SessionCodec, SessionMiddleware
from missionctl.security.signing import sign
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import log_followers
from missionctl.services.runtime.composition import open_runtime
from missionctl.services.usecases.anomalies import anomaly_notifier
from missionctl.services.usecases.audit import audit_checkpoints
from missionctl.services.usecases.costs import usage_folder
from missionctl.services.usecases.health import HealthSummaryCache
from missionctl.services.usecases.scheduler import schedule_firing
from missionctl.services.usecases.webhook_sender import webhook_dispatcher
from missionctl.services.usecases.workers import worker_sweeper
from missionctl.settings import Settings, get_settings
from missionctl.web import STATIC_DIR, web_router
from missionctl.web.errors import render_error_page
from missionctl.web.routes import api_docs

DESCRIPTION = (
    "Mission Control is the system of record between a software goal and its execution by AI "
    'agents. Errors use one shape: `{"error": {"code", "message", "field", "details"}}`. '
    "Authenticate with `Authorization: Bearer <token>` (`missionctl token create`)."
)
# Routes that take no dependencies and are open to anyone: the static files (stylesheet,
# script, vendored libraries) and the API's schema.
log = logging.getLogger(__name__)
PUBLIC_PATHS = frozenset({"/static", "/openapi.json"})


def _document_bearer_auth(app: FastAPI) -> None:
    """Say in ``/openapi.json`` that operations need a Bearer token, except the public ones.

    The public routes are found when the schema is first asked for, not when the app is
    built: resolving every route's dependencies costs a good part of a second.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            public = {
                (method.lower(), entry.path)
                for entry in route_table(app)
                if entry.declared and entry.permission is None
                for method in entry.methods
            }
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            # Error responses name the error body by reference (api/errors.py).
            components.setdefault("schemas", {}).update(error_body_schemas())
            components["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`missionctl token create`), sent as "
                    "`Authorization: Bearer mc_…`.",
                }
            }
            schema["security"] = [{"bearer": []}]
            for path, operations in schema["paths"].items():
                for method, operation in operations.items():
                    if (method, path) in public:
                        operation["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def _webhooks(ctx: ServiceContext, settings: Settings) -> AsyncIterator[None]:
    """Send the webhook outbox, unless delivery is switched off (its follower fills it)."""
    if not settings.webhooks.deliver:
        yield
        return
    async with webhook_dispatcher(ctx, settings.webhooks, sign=sign):
        yield


@asynccontextmanager
async def _outage_watch_ends(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, stop waiting to record a database outage (``api.errors``): it goes on."""
    try:
        yield
    finally:
        task = getattr(app.state, "outage_watch", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def _lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The app's lifespan: the database (its schema upgraded) and what runs beside it.

    Opens the runtime, the audit checkpoints, the followers of the log, the usage folder, the
    offline-worker sweep, the metrics listener and the embedded engine, and closes them in
    reverse order.
    """
    async with (
        open_context(settings) as ctx,
        open_runtime(settings) as runtime,
        audit_checkpoints(ctx),  # signs the chain head now and then (ADR 0023)
        # The search index, memory, the analytics facts and the webhook outbox (ADR 0086).
        log_followers(ctx, sends_webhooks=True),
        usage_folder(ctx),  # keeps the usage deltas few (ADR 0048)
        anomaly_notifier(ctx),  # announces each new anomaly once, as an event (ADR 0069)
        worker_sweeper(ctx),  # reports workers gone offline, engine or not (ADR 0058)
        # ADR 0043; with serve --workers, the first process to listen serves it (ADR 0113).
        metrics_listener(
            ctx, settings.metrics_address, database=True, shared=settings.server.workers > 1
        ),
        _webhooks(ctx, settings),  # the outbox of outbound webhooks (ADR 0060)
        # Fires due schedules beside the embedded engine, exactly once per tick (ADR 0059).
        schedule_firing(
            ctx,
            planner=runtime.planner,
            every_s=settings.engine.schedules_every_s,
            enabled=settings.engine.embedded,
        ),
        app.state.mcp.running(),  # the MCP session manager's run context (ADR 0063)
        _outage_watch_ends(app),
    ):
        app.state.ctx = ctx
        app.state.runtime = runtime
        app.state.sandbox_status = await runtime.agents.sandbox.check()
        if warning := app.state.sandbox_status.warning:
            log.warning("%s", warning)
        if not settings.engine.embedded:
            yield
            return
        engine = Engine(
            ctx,
            runtime.agents,
            config=EngineConfig.from_settings(settings.engine),
            on_run_finished=lambda run_id: write_report_when_run_ends(ctx, run_id),
            kind=WorkerKind.embedded,
        )
        freeze_startup_heap()  # the server runs an engine: see engine.heap (ADRs 0019, 0022)
        stop = asyncio.Event()
        worker = asyncio.create_task(engine.run(stop), name="missionctl-engine")
        try:
            yield
        finally:
            stop.set()
            await worker


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The lifespan opens the database (upgrading its schema) and closes it.

    Args:
        settings: explicit settings (tests); ``None`` reads them from the environment.
    """
    settings = settings or get_settings()
    # Before anything is created or logged: files private to this user, log records redacted.
    restrict_process()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    app = FastAPI(
        title="Mission Control",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lambda app: _lifespan(app, settings),
        openapi_url="/openapi.json",
        # FastAPI's own docs pages load Swagger UI from a CDN and set it up with an inline
        # script, which the pages' Content-Security-Policy forbids: /docs is served from
        # vendored files instead (web/routes/api_docs.py).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # Counted in the database when several server processes share it (ADR 0113); the app's
    # context exists once its lifespan has begun, before any request.
    shared = SharedCounts(lambda: app.state.ctx) if shares_limits(settings) else None
    app.state.limits = EdgeLimits.from_settings(settings.server, shared=shared)
    app.state.health_summary = HealthSummaryCache()  # the strip's figures, read once a second
    install_error_handlers(app, page_renderer=render_error_page)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(build_api_router())
    app.include_router(web_router)
    app.include_router(api_docs.router, include_in_schema=False)
    app.state.mcp = mcp_http.McpHttp(max_body_bytes=settings.server.max_body_bytes)
    app.include_router(mcp_http.router)  # /mcp: Streamable HTTP, for an API token (ADR 0063)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # A route that declares no permission must not be served at all (ADR 0011).
    if missing := undeclared_routes(app, public_paths=PUBLIC_PATHS):
        raise RuntimeError("routes without a declared permission: " + "; ".join(missing))
    # ...nor one that could read a body before checking who asks (ADR 0076).
    if unguarded := unguarded_routes(app):
        raise RuntimeError("routes not made by a GuardedRoute router: " + "; ".join(unguarded))
    _document_bearer_auth(app)
    warn_if_shared(settings.home)
    key = SessionKeySource(settings)  # follows a rotated key file (ADR 0075)
    register_server_secrets(settings, session_key=key())
    codec = SessionCodec(key, max_age_s=settings.server.session_max_age_s)
    # The last added runs first. The body limit runs before the session and every route, so
    # an oversized body costs no work at all; only the headers are added around it (its 413
    # carries them too).
    app.add_middleware(SessionMiddleware, codec=codec)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
