"""Browser sessions, CSRF, sign-in rate limits, token revocation and security headers."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.security.headers import CONTENT_SECURITY_POLICY
from missionctl.security.limits import SharedLimiter
from missionctl.security.sessions import SESSION_COOKIE
from missionctl.services.usecases import identity
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import ServerSettings, Settings
from tests.identity.helpers import PASSWORD, add_user
from tests.support.auth import sign_in_link_secret
from tests.support.consistency import assert_consistent

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Browser:
    """An app and a cookie-keeping client that sends no credentials of its own."""

    app: FastAPI
    http: httpx2.AsyncClient

    async def csrf(self, path: str = "/sign-in") -> str:
        """The CSRF token the page at ``path`` carries for this browser's session."""
        match = _CSRF.search((await self.http.get(path)).text)
        assert match, f"{path} carries no CSRF token"
        return match.group(1)

    async def sign_in(self, name: str, password: str) -> httpx2.Response:
        token = await self.csrf()
        form = {"name": name, "password": password, "csrf_token": token, "next": "/runs"}
        return await self.http.post("/sign-in", data=form)


@pytest.fixture
async def browser(settings: Settings) -> AsyncIterator[Browser]:
    limited = settings.model_copy(
        update={"server": ServerSettings(sign_in_attempts=10, sign_in_window_s=300)}
    )
    app = create_app(limited)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Browser(app, http)
        await assert_consistent(app.state.ctx)


async def test_every_response_carries_the_security_headers(browser: Browser) -> None:
    for path in ("/sign-in", "/missions", "/healthz", "/api/v1/missions", "/static/js/app.js"):
        headers = (await browser.http.get(path)).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


async def test_the_session_cookie_is_http_only_lax_and_secure_over_https(browser: Browser) -> None:
    cookie = (await browser.http.get("/sign-in")).headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=browser.app), base_url="https://testserver"
    ) as https:
        assert "Secure" in (await https.get("/sign-in")).headers["set-cookie"]


async def test_a_forged_or_tampered_cookie_is_no_session(browser: Browser) -> None:
    await add_user(browser.app.state.ctx, "ada", Role.OPERATOR)
    assert (await browser.sign_in("ada", PASSWORD)).status_code == 303
    value = browser.http.cookies[SESSION_COOKIE]
    browser.http.cookies.clear()
    browser.http.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert (await browser.http.get("/api/v1/missions")).status_code == 401


async def test_a_write_without_the_csrf_token_is_refused_and_with_it_accepted(
    browser: Browser,
) -> None:
    await add_user(browser.app.state.ctx, "ada", Role.OPERATOR)
    signed_in = await browser.sign_in("ada", PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/runs"

    refused = await browser.http.post("/api/v1/missions", json={"goal": "Build a CLI tool"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_rejected"
    wrong = await browser.http.post(
        "/api/v1/missions", json={"goal": "Build a CLI tool"}, headers={"X-CSRF-Token": "nope"}
    )
    assert wrong.status_code == 403
    listed = (await browser.http.get("/api/v1/missions")).json()
    assert listed["total"] == 0  # nothing was created by the refused requests

    token = await browser.csrf("/missions")
    accepted = await browser.http.post(
        "/api/v1/missions", json={"goal": "Build a CLI tool"}, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 201
    assert accepted.json()["created_by"] == "user:ada"
    # A plain form post carries it as a field instead of a header.
    form = await browser.http.post("/missions", data={"goal": "Build an API", "csrf_token": token})
    assert form.status_code == 303

    denials = [e for e in await read_event_page(browser.app.state.ctx) if e.type == "access.denied"]
    assert [d.payload["reason"] for d in denials] == ["missing or wrong CSRF token"] * 2


async def test_sign_out_ends_the_session(browser: Browser) -> None:
    await add_user(browser.app.state.ctx, "ada", Role.VIEWER)
    await browser.sign_in("ada", PASSWORD)
    assert (await browser.http.get("/api/v1/missions")).status_code == 200
    token = await browser.csrf("/missions")
    out = await browser.http.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert (await browser.http.get("/api/v1/missions")).status_code == 401
    page = await browser.http.get("/missions", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/sign-in?next=%2Fmissions"
    types = [e.type for e in await read_event_page(browser.app.state.ctx)]
    assert "user.signed_out" in types


async def test_a_one_time_link_signs_in_once(browser: Browser) -> None:
    secret = await sign_in_link_secret(browser.app.state.ctx, "ada")
    first = await browser.http.get(f"/sign-in?token={secret}&next=/runs")
    assert first.status_code == 303 and first.headers["location"] == "/runs"
    assert (await browser.http.get("/api/v1/missions")).status_code == 200
    browser.http.cookies.clear()
    again = await browser.http.get(f"/sign-in?token={secret}")
    assert again.status_code == 401 and "already used or expired" in again.text
    assert (await browser.http.get("/api/v1/missions")).status_code == 401


async def test_next_never_leaves_the_site(browser: Browser) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        secret = await sign_in_link_secret(browser.app.state.ctx, "ada")
        response = await browser.http.get("/sign-in", params={"token": secret, "next": target})
        assert response.headers["location"] == "/missions"


async def test_ten_wrong_passwords_are_rate_limited_and_the_right_one_waits(
    browser: Browser,
) -> None:
    await add_user(browser.app.state.ctx, "ada", Role.OPERATOR)
    statuses = [(await browser.sign_in("ada", "wrong password!")).status_code for _ in range(10)]
    assert statuses == [401] * 10
    limited = await browser.sign_in("ada", PASSWORD)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 300
    assert (await browser.http.get("/api/v1/missions")).status_code == 401  # still not in

    # Another account from the same address is not locked by ada's failures (yet).
    await add_user(browser.app.state.ctx, "bob", Role.VIEWER)
    assert (await browser.sign_in("bob", PASSWORD)).status_code == 303

    failures = [
        e.payload
        for e in await read_event_page(browser.app.state.ctx)
        if e.type == "user.sign_in_failed"
    ]
    assert len(failures) == 11 and failures[-1]["rate_limited"] is True
    assert all(PASSWORD not in str(f) and "wrong password" not in str(f) for f in failures)


async def test_the_window_frees_a_slot_for_the_right_password(settings: Settings) -> None:
    short = settings.model_copy(
        update={"server": ServerSettings(sign_in_attempts=2, sign_in_window_s=1)}
    )
    app = create_app(short)
    # The limiters read a clock the test moves: on a busy machine three sign-ins (each hashing
    # a password) can take longer than the 1 s window, which would free the slot too early.
    now = [1000.0]
    limits = app.state.limits
    for limiter in (limits.sign_in_account, limits.sign_in_address):
        if isinstance(limiter, SharedLimiter):  # PostgreSQL: counted in the database
            limiter.counts.clock = lambda: now[0]
        else:
            limiter.counts._clock = lambda: now[0]
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            browser = Browser(app, http)
            await add_user(app.state.ctx, "ada", Role.OPERATOR)
            assert (await browser.sign_in("ada", "wrong password!")).status_code == 401
            assert (await browser.sign_in("ada", "wrong password!")).status_code == 401
            assert (await browser.sign_in("ada", PASSWORD)).status_code == 429
            now[0] += 1.1
            assert (await browser.sign_in("ada", PASSWORD)).status_code == 303
        await assert_consistent(app.state.ctx)


async def test_tokens_are_stored_as_hashes_and_a_revoked_one_stops_at_once(
    browser: Browser,
) -> None:
    ctx = browser.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    _, secret = await identity.create_token(ctx, user_name="ada", name="ci", actor="system")
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await browser.http.get("/api/v1/missions", headers=headers)).status_code == 200

    async with ctx.read() as session:
        rows = (await session.execute(text("SELECT * FROM api_tokens"))).mappings().all()
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert secret not in stored and secret[len("mc_") :] not in stored
    assert rows[0]["token_hash"] != secret and len(rows[0]["token_hash"]) == 64

    await identity.revoke_token(ctx, name="ci", actor="user:root")
    refused = await browser.http.get("/api/v1/missions", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


async def test_a_viewer_token_is_refused_writes_with_403_and_an_event(browser: Browser) -> None:
    ctx = browser.app.state.ctx
    await add_user(ctx, "val", Role.VIEWER)
    _, secret = await identity.create_token(ctx, user_name="val", name="val-ro", actor="system")
    response = await browser.http.post(
        "/api/v1/missions",
        json={"goal": "Build a CLI tool"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 403
    assert "operator" in response.json()["error"]["message"]
    denied = [e for e in await read_event_page(ctx) if e.type == "access.denied"]
    assert denied[-1].actor == "token:val-ro"
    assert denied[-1].payload["permission"] == "missions:write"
    assert secret not in str(denied[-1].payload)


async def test_api_tokens_are_rate_limited_per_minute(settings: Settings) -> None:
    tight = settings.model_copy(update={"server": ServerSettings(api_requests_per_minute=3)})
    app = create_app(tight)
    async with app.router.lifespan_context(app):
        await add_user(app.state.ctx, "ada", Role.VIEWER)
        _, secret = await identity.create_token(
            app.state.ctx, user_name="ada", name="busy", actor="system"
        )
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {secret}"},
        ) as http:
            codes = [(await http.get("/api/v1/missions")).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            last = await http.get("/api/v1/missions")
            assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
        await assert_consistent(app.state.ctx)
