"""Helpers of the administration and account page tests: an app, and clients acting as roles.

``Site.as_role`` is a client with an API token of a user of that role (tokens are not asked
for a CSRF token); ``Site.browser`` is a cookie-keeping client that signs in with a password,
as a person's browser does, so that its forms need the session's CSRF token.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx2
from fastapi import FastAPI
from sqlalchemy import select

from missionctl.app import create_app
from missionctl.db.models import Event
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.settings import EngineSettings, Settings
from tests.identity.helpers import PASSWORD
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
ROLES_BELOW_ADMIN = (Role.VIEWER, Role.OPERATOR, Role.APPROVER)


@dataclass
class Browser:
    """A client that keeps cookies: a person's browser."""

    http: httpx2.AsyncClient

    async def csrf(self, path: str = "/sign-in") -> str:
        """The session's CSRF token, as the page at ``path`` carries it."""
        match = CSRF.search((await self.http.get(path)).text)
        assert match, f"{path} carries no CSRF token"
        return match.group(1)

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx2.Response:
        """Sign in with a password through the form."""
        form = {"name": name, "password": password, "csrf_token": await self.csrf()}
        return await self.http.post("/sign-in", data=form)


@dataclass
class Site:
    """The app (lifespan running, no engine) and ways to talk to it."""

    app: FastAPI

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    def client(self, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
        """A client of the app (anonymous without ``headers``)."""
        transport = httpx2.ASGITransport(app=self.app)
        return httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        )

    async def as_role(self, role: Role, user: str | None = None) -> httpx2.AsyncClient:
        """A client acting through an API token of ``user`` (default: ``<role>-user``)."""
        name = user or f"{role.value}-user"
        return self.client(await bearer_headers(self.ctx, name, role))

    @asynccontextmanager
    async def browser(self) -> AsyncIterator[Browser]:
        """A cookie-keeping client, signed in as nobody yet."""
        async with self.client() as http:
            yield Browser(http)


@asynccontextmanager
async def running_site(settings: Settings) -> AsyncIterator[Site]:
    """The app on ``settings`` with its lifespan running and no embedded engine."""
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        yield Site(app)
        await assert_consistent(app.state.ctx)


async def all_event_text(ctx: ServiceContext) -> str:
    """Every event's type, actor and payload as one text, to look for secrets in."""
    async with ctx.read() as session:
        rows = (await session.scalars(select(Event).order_by(Event.seq))).all()
    return "\n".join(f"{e.type} {e.actor} {e.payload}" for e in rows)


async def events_of(ctx: ServiceContext, kind: str) -> list[Event]:
    """The events of type ``kind``, oldest first."""
    async with ctx.read() as session:
        rows = await session.scalars(select(Event).where(Event.type == kind).order_by(Event.seq))
        return list(rows.all())
