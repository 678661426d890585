"""Composition root: build the FastAPI application from settings.

``missionctl serve`` hands uvicorn the import string ``missionctl.app:create_app`` (factory), so
importing this module has no side effects and tests build as many apps as they like.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from missionctl import __version__
from missionctl.api.errors import install_error_handlers
from missionctl.api.router import api_router
from missionctl.api.routes import health
from missionctl.engine.hooks import write_report_when_run_ends
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.services import open_context
from missionctl.services.runtime import open_runtime
from missionctl.settings import Settings, get_settings
from missionctl.web import STATIC_DIR, web_router
from missionctl.web.errors import render_error_page

DESCRIPTION = (
    "Mission Control is the system of record between a software goal and its execution by AI "
    'agents. Errors use one shape: `{"error": {"code", "message", "field", "details"}}`.'
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The lifespan opens the database (upgrading its schema) and closes it.

    Args:
        settings: explicit settings (tests); ``None`` reads them from the environment.
    """
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_context(settings) as ctx, open_runtime(settings) as runtime:
            app.state.ctx = ctx
            app.state.runtime = runtime
            if not settings.engine.embedded:
                yield
                return
            engine = Engine(
                ctx,
                runtime.agents,
                config=EngineConfig.from_settings(settings.engine),
                on_run_finished=lambda run_id: write_report_when_run_ends(ctx, run_id),
            )
            stop = asyncio.Event()
            worker = asyncio.create_task(engine.run(stop), name="missionctl-engine")
            try:
                yield
            finally:
                stop.set()
                await worker

    app = FastAPI(
        title="Mission Control",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app, page_renderer=render_error_page)
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
