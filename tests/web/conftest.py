"""Fixtures of the page tests: a client whose responses stream (for the live pages' SSE)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.app import create_app
from missionctl.services import ServiceContext
from missionctl.settings import Settings
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent
from tests.web.support import StreamingASGITransport


@dataclass
class LiveApp:
    """The app (with its lifespan and embedded engine running) and a streaming client of it."""

    app: FastAPI
    http: httpx2.AsyncClient

    @property
    def ctx(self) -> ServiceContext:
        """The app's own service context: what it appends is published to its streams."""
        ctx: ServiceContext = self.app.state.ctx
        return ctx


@pytest.fixture
async def live_app(settings: Settings) -> AsyncIterator[LiveApp]:
    """Like ``client``, but responses stream and closing one disconnects (as a browser does)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = StreamingASGITransport(app)
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            yield LiveApp(app, http)
        await assert_consistent(app.state.ctx)
