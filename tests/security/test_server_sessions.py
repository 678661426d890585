"""Sessions the server can end, throttling that spares the owner's browser, and login CSRF.

Security issue 53 (ADR 0077): a copied session cookie must stop working when its session
ends on the server (sign-out, sign out everywhere, a new password or role, disabling, a revoke
from the sessions page); guesses at a name must not lock its owner out of a browser they
signed in on before; a one-time link opened in a signed-in browser must ask before it switches
the account; a failed sign-in records a typed name only when such a user exists.
"""

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx2
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer
from pydantic import SecretStr

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.security.sessions import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    Session,
    SessionCodec,
    load_secret_key,
)
from missionctl.services.usecases import identity, missions, sessions, sign_in_links
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import ServerSettings, Settings
from tests.identity.helpers import PASSWORD, add_user
from tests.support.auth import sign_in_link_secret
from tests.support.consistency import assert_consistent

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_SESSION_ROW = re.compile(r'data-session="([0-9a-f-]{36})" data-active="(true|false)"')


@dataclass
class Browser:
    """One cookie-keeping client of the app (a browser), sending no credentials of its own."""

    http: httpx2.AsyncClient

    async def csrf(self, path: str = "/sign-in") -> str:
        match = _CSRF.search((await self.http.get(path)).text)
        assert match, f"{path} carries no CSRF token"
        return match.group(1)

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx2.Response:
        form = {"name": name, "password": password, "csrf_token": await self.csrf()}
        return await self.http.post("/sign-in", data=form)

    async def post(self, path: str, **fields: str) -> httpx2.Response:
        token = await self.csrf("/sessions")
        return await self.http.post(path, data={"csrf_token": token, **fields})

    async def me(self) -> str | None:
        answer = await self.http.get("/api/v1/me")
        return answer.json()["user_name"] if answer.status_code == 200 else None


@dataclass
class Site:
    app: FastAPI
    browser: Callable[[str], "asynccontextmanager[Browser]"]  # type: ignore[type-arg]


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    limited = settings.model_copy(
        update={"server": ServerSettings(sign_in_attempts=3, sign_in_window_s=300)}
    )
    app = create_app(limited)

    @asynccontextmanager
    async def browser(agent: str = "TestBrowser/1.0") -> AsyncIterator[Browser]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"user-agent": agent}
        ) as http:
            yield Browser(http)

    async with app.router.lifespan_context(app):
        yield Site(app, browser)  # type: ignore[arg-type]
        await assert_consistent(app.state.ctx)


async def _copy(browser: Browser, into: Browser) -> None:
    """Copy ``browser``'s session cookie into ``into`` (what a thief of the cookie holds)."""
    into.http.cookies.set(SESSION_COOKIE, browser.http.cookies[SESSION_COOKIE])


async def _goals(site: Site) -> int:
    return (await missions.read_missions(site.app.state.ctx)).total


async def test_a_saved_cookie_is_refused_after_sign_out(site: Site) -> None:
    await add_user(site.app.state.ctx, "ada", Role.OPERATOR)
    async with site.browser("A") as ada, site.browser("thief") as thief:
        assert (await ada.sign_in("ada")).status_code == 303
        token = await ada.csrf("/missions")
        await _copy(ada, thief)
        assert await thief.me() == "ada"  # the copy works while the session lives
        assert (await ada.post("/sign-out")).status_code == 303

        created = await thief.http.post(
            "/api/v1/missions", json={"goal": "Build a CLI tool"}, headers={"X-CSRF-Token": token}
        )
        assert created.status_code == 401
        assert "session has ended" in created.json()["error"]["message"]
        assert await _goals(site) == 0
        assert await thief.me() is None
    [out] = [e for e in await read_event_page(site.app.state.ctx) if e.type == "user.signed_out"]
    assert out.payload["name"] == "ada" and "session_id" in out.payload


@pytest.mark.parametrize("change", ["password", "role", "disable"])
async def test_a_saved_cookie_is_refused_after_a_password_role_or_account_change(
    site: Site, change: str
) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "root", Role.ADMIN)
    await add_user(ctx, "ada", Role.OPERATOR)
    async with site.browser("A") as ada, site.browser("thief") as thief:
        assert (await ada.sign_in("ada")).status_code == 303
        await _copy(ada, thief)
        assert await thief.me() == "ada"
        if change == "password":
            new = SecretStr("a brand new passphrase 42")
            await identity.set_password(ctx, name="ada", password=new, actor="system")
        elif change == "role":
            await identity.set_role(ctx, name="ada", role=Role.VIEWER, actor="user:root")
        else:
            await identity.disable_user(ctx, name="ada", actor="user:root")
        assert await thief.me() is None
        assert await ada.me() is None
        listed = await sessions.list_sessions(ctx, user_name="ada", viewer=None)
        assert [s.active for s in listed] == [False]
        assert listed[0].revoked_at is not None


async def test_sign_out_everywhere_ends_every_browser_of_the_user_only(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.VIEWER)
    await add_user(ctx, "bob", Role.VIEWER)
    async with (
        site.browser("laptop") as laptop,
        site.browser("phone") as phone,
        site.browser("bob") as bob,
    ):
        for browser, name in ((laptop, "ada"), (phone, "ada"), (bob, "bob")):
            assert (await browser.sign_in(name)).status_code == 303
        done = await phone.post("/sessions/revoke-all")
        assert done.status_code == 303
        assert await laptop.me() is None and await phone.me() is None
        assert await bob.me() == "bob"
        # Signing in again works: the generation moved on, the account did not lock.
        assert (await laptop.sign_in("ada")).status_code == 303
        assert await laptop.me() == "ada"
    [event] = [e for e in await read_event_page(ctx) if e.type == "user.sessions_revoked"]
    assert event.actor == "user:ada" and event.payload == {
        "name": "ada",
        "count": 2,
        "reason": "sign_out_everywhere",
    }


async def test_the_sessions_page_lists_and_revokes(site: Site) -> None:
    await add_user(site.app.state.ctx, "ada", Role.VIEWER)
    async with site.browser("Firefox/140") as laptop, site.browser("Safari/18") as phone:
        assert (await laptop.sign_in("ada")).status_code == 303
        assert (await phone.sign_in("ada")).status_code == 303
        page = await laptop.http.get("/sessions")
        assert page.status_code == 200
        assert "Firefox/140" in page.text and "Safari/18" in page.text
        assert page.text.count("This browser") == 1
        rows = _SESSION_ROW.findall(page.text)
        assert [active for _, active in rows] == ["true", "true"]
        listed = await sessions.list_sessions(site.app.state.ctx, user_name="ada", viewer=None)
        phone_id = next(str(s.id) for s in listed if s.user_agent == "Safari/18")

        revoked = await laptop.post(f"/sessions/{phone_id}/revoke")
        assert revoked.status_code == 303 and revoked.headers["location"] == "/sessions"
        assert await phone.me() is None
        assert await laptop.me() == "ada"
        again = await laptop.http.get("/sessions")
        assert (phone_id, "false") in _SESSION_ROW.findall(again.text)


async def test_a_viewer_cannot_see_or_end_anyone_elses_sessions(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "root", Role.ADMIN)
    await add_user(ctx, "val", Role.VIEWER)
    async with site.browser("root") as root, site.browser("val") as val:
        assert (await root.sign_in("root")).status_code == 303
        assert (await val.sign_in("val")).status_code == 303
        [root_session] = await sessions.list_sessions(ctx, user_name="root", viewer=None)

        assert (await val.http.get("/sessions?user=root")).status_code == 403
        assert (await val.post(f"/sessions/{root_session.id}/revoke")).status_code == 403
        assert (await val.post("/sessions/revoke-all", user="root")).status_code == 403
        assert (await val.http.get("/sessions/not-a-uuid")).status_code in (404, 405)
        assert (await val.post("/sessions/not-a-uuid/revoke")).status_code == 404
        assert await root.me() == "root"

        # An admin may: the page shows val's sessions, and revoking one ends it.
        listed = await root.http.get("/sessions?user=val")
        assert listed.status_code == 200 and "Sessions of val" in listed.text
        [val_session] = await sessions.list_sessions(ctx, user_name="val", viewer=None)
        ended = await root.post(f"/sessions/{val_session.id}/revoke")
        assert ended.status_code == 303 and ended.headers["location"] == "/sessions?user=val"
        assert await val.me() is None and await root.me() == "root"
    revoked = [e for e in await read_event_page(ctx) if e.type == "session.revoked"]
    assert [(e.actor, e.payload["name"]) for e in revoked] == [("user:root", "val")]


@pytest.mark.parametrize(
    "header",
    [
        b"missionctl_session=garbage; missionctl_device=garbage",
        b"missionctl_session=; missionctl_device=",
        b"missionctl_session=" + b"a" * 4000,
        b"missionctl_session=eyJzIjoieCJ9.AAAA.BBBB; missionctl_device=eyJ1IjoiYWRhIn0.AA.BB",
        b'missionctl_session="quoted;value"',
        "missionctl_session=\u00e9\u00e8; missionctl_device=\u00e9".encode("latin-1"),
        b"=;;==; missionctl_session",
    ],
)
async def test_forged_and_garbled_cookies_are_refused_cleanly(site: Site, header: bytes) -> None:
    await add_user(site.app.state.ctx, "ada", Role.ADMIN)
    async with site.browser("forger") as forger:
        for path in ("/api/v1/me", "/sessions", "/sign-in", "/missions"):
            answer = await forger.http.get(path, headers={"cookie": header})  # type: ignore[dict-item]
            assert answer.status_code < 500, (path, answer.status_code)
        assert (await forger.http.get("/api/v1/me", headers={"cookie": header})).status_code == 401  # type: ignore[dict-item]
        bad = await forger.http.post(
            "/sign-in",
            data={"name": "ada", "password": PASSWORD},
            headers={"cookie": header},  # type: ignore[dict-item]
        )
        assert bad.status_code == 403


async def test_a_validly_signed_cookie_needs_a_live_server_session(
    site: Site, settings: Settings
) -> None:
    """Knowing the key is not enough any more: the secret must name a live session row."""
    await add_user(site.app.state.ctx, "ada", Role.ADMIN)
    key = load_secret_key(settings)
    codec = SessionCodec(key, max_age_s=3600)
    # What a v1 cookie held (the user's name), signed with the old salt: no longer read.
    old = URLSafeTimedSerializer(key, salt="missionctl.session.v1").dumps({"u": "ada", "c": "x"})
    made_up = codec.dump(Session(secret="made-up-secret", csrf="x", is_new=False))
    async with site.browser("forger") as forger:
        for value in (old, made_up):
            forger.http.cookies.set(SESSION_COOKIE, value)
            assert await forger.me() is None


async def test_the_owner_signs_in_from_a_known_browser_while_guesses_are_refused(
    site: Site,
) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    async with site.browser("owner") as owner, site.browser("attacker") as attacker:
        assert (await owner.sign_in("ada")).status_code == 303
        assert DEVICE_COOKIE in owner.http.cookies
        assert (await owner.post("/sign-out")).status_code == 303

        guesses = [(await attacker.sign_in("ada", "wrong password!")).status_code for _ in range(3)]
        assert guesses == [401, 401, 401]
        refused = await attacker.sign_in("ada")  # even the right password: the account is shut
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert await attacker.me() is None

        assert (await owner.sign_in("ada")).status_code == 303
        assert await owner.me() == "ada"
        # A known browser's own failures are counted for it alone.
        await owner.post("/sign-out")
        own = [(await owner.sign_in("ada", "typo password!")).status_code for _ in range(4)]
        assert own == [401, 401, 401, 429]


async def test_a_link_lets_the_owner_in_past_the_account_limit_and_makes_a_known_browser(
    site: Site,
) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    async with site.browser("attacker") as attacker, site.browser("new laptop") as laptop:
        for _ in range(3):
            await attacker.sign_in("ada", "wrong password!")
        assert (await laptop.sign_in("ada")).status_code == 429
        secret = await sign_in_links.create_sign_in_link(ctx, user_name="ada")
        assert (await laptop.http.get(f"/sign-in?token={secret}")).status_code == 303
        assert await laptop.me() == "ada"
        await laptop.post("/sign-out")
        assert (await laptop.sign_in("ada")).status_code == 303


async def test_a_failed_sign_in_records_a_name_only_when_such_a_user_exists(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    typed = "my-secret-passphrase-typed-as-name"
    async with site.browser("someone") as someone:
        assert (await someone.sign_in(typed, "whatever it is")).status_code == 401
        assert (await someone.sign_in("ADA", "wrong password!")).status_code == 401
    failures = [e.payload for e in await read_event_page(ctx) if e.type == "user.sign_in_failed"]
    assert [f["name"] for f in failures] == [None, "ada"]
    assert all(typed not in str(f) for f in failures)


async def test_admins_see_the_failed_sign_ins_per_account(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "root", Role.ADMIN)
    await add_user(ctx, "ada", Role.VIEWER)
    async with site.browser("root") as root, site.browser("guesser") as guesser:
        await guesser.sign_in("ada", "wrong password!")
        await guesser.sign_in("ada", "wrong password!")
        await guesser.sign_in("nobody-at-all", "wrong password!")
        assert (await root.sign_in("root")).status_code == 303
        page = (await root.http.get("/sessions")).text
        assert 'data-testid="failed-sign-ins"' in page
        assert 'data-account="ada"' in page and "unknown user" in page
        assert "nobody-at-all" not in page
        async with site.browser("viewer") as viewer:
            assert (await viewer.sign_in("ada")).status_code == 303
            assert "failed-sign-ins" not in (await viewer.http.get("/sessions")).text
    attempts = await sessions.recent_sign_in_failures(ctx)
    assert [(a.name, a.count) for a in attempts.accounts] == [(None, 1), ("ada", 2)]


async def test_a_link_in_a_signed_in_browser_asks_before_it_switches(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    await add_user(ctx, "mallory", Role.VIEWER)
    link = await sign_in_links.create_sign_in_link(ctx, user_name="mallory")
    async with site.browser("victim") as victim:
        assert (await victim.sign_in("ada")).status_code == 303
        asked = await victim.http.get(f"/sign-in?token={link}&next=/runs")
        assert asked.status_code == 200
        assert "You are signed in as <strong>ada</strong>" in asked.text
        assert "Sign in as <strong>mallory</strong> instead?" in asked.text
        assert await victim.me() == "ada"  # a GET never switches
        assert await sign_in_links.peek_sign_in_link(ctx, secret=link) == "mallory"  # nor uses it

        forged = await victim.http.post("/sign-in/link", data={"token": link})
        assert forged.status_code == 403 and await victim.me() == "ada"

        token = _CSRF.search(asked.text).group(1)  # type: ignore[union-attr]
        agreed = await victim.http.post(
            "/sign-in/link", data={"token": link, "next": "/runs", "csrf_token": token}
        )
        assert agreed.status_code == 303 and agreed.headers["location"] == "/runs"
        assert await victim.me() == "mallory"
    [ada_session] = await sessions.list_sessions(ctx, user_name="ada", viewer=None)
    assert not ada_session.active  # leaving an account ends its session on the server


async def test_a_link_for_the_signed_in_user_just_goes_on(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    async with site.browser("ada") as ada:
        await ada.sign_in("ada")
        link = await sign_in_link_secret(ctx, "ada")
        went = await ada.http.get(f"/sign-in?token={link}&next=/runs")
        assert went.status_code == 303 and went.headers["location"] == "/runs"
        assert await ada.me() == "ada"


async def test_revoke_all_sessions_ends_everyones(site: Site) -> None:
    ctx = site.app.state.ctx
    await add_user(ctx, "ada", Role.OPERATOR)
    await add_user(ctx, "bob", Role.VIEWER)
    async with site.browser("a") as ada, site.browser("b") as bob:
        await ada.sign_in("ada")
        await bob.sign_in("bob")
        assert await sessions.revoke_all_sessions(ctx, actor="system", reason="key") == 2
        assert await ada.me() is None and await bob.me() is None
        assert (await bob.sign_in("bob")).status_code == 303
        assert await bob.me() == "bob"
    [event] = [e for e in await read_event_page(ctx) if e.type == "session.revoked_all"]
    assert event.payload == {"count": 2, "reason": "key"}
