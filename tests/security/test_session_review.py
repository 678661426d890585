"""What the lowest role (or nobody) can still do against sessions, sign-in and approvals.

A review of server-side sessions (ADR 0077) and four-eyes approvals (ADR 0078) as an attacker:

- An open live stream (Server-Sent Events) was admitted once, when it opened: a session signed
  out, revoked or ended by a password change kept receiving every event for as long as the
  browser kept the stream open, and so did a revoked API token. A stream now asks again
  whether its credential still lets its identity in, every ``streams.RECHECK_S`` seconds,
  and ends when it does not.
- Text PostgreSQL cannot store (a NUL character) typed as a sign-in name, a user to sign out,
  or an approval's reason was a 500; it is an ordinary refusal now. An approval's reasons
  refuse control characters, and secrets in them are redacted like the override's.
- A password change that landed between the password check and the opening of the session
  left the new session alive: both now happen in one transaction.
- The command line printed a traceback for a user name or a browser name holding Rich markup
  (``[/]``), and for key rotations in a data directory it cannot write.
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.util import await_only
from typer.testing import CliRunner

from missionctl.cli import app as cli_app
from missionctl.db.accounts import User
from missionctl.domain.access import Role
from missionctl.security import streams
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity, sessions
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings
from tests.api.test_governance_api import Api, serve
from tests.identity.helpers import PASSWORD, add_user
from tests.security.test_four_eyes import _decisions, _pending, _save, _start
from tests.support.auth import bearer_headers
from tests.web.support import StreamingASGITransport

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
# Short enough for a test to see several checks, long enough to stay cheap on a loaded machine.
_RECHECK_S = 0.2


@dataclass
class Browser:
    """A cookie-keeping client whose responses stream (a browser with a page open)."""

    http: httpx2.AsyncClient

    async def csrf(self, path: str = "/sign-in") -> str:
        match = _CSRF.search((await self.http.get(path)).text)
        assert match, f"{path} carries no CSRF token"
        return match.group(1)

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx2.Response:
        form = {"name": name, "password": password, "csrf_token": await self.csrf()}
        return await self.http.post("/sign-in", data=form)


@asynccontextmanager
async def _client(app: FastAPI, headers: dict[str, str] | None = None) -> AsyncIterator[Browser]:
    transport = StreamingASGITransport(app)
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as http:
        yield Browser(http)


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[FastAPI]:
    async with serve(settings) as app:
        yield app


@pytest.fixture
def quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "RECHECK_S", _RECHECK_S)


class _Watch:
    """Reads a streaming response to its end in a task of its own (a wait never cancels it)."""

    def __init__(self, response: httpx2.Response) -> None:
        self._task = asyncio.create_task(self._drain(response))

    @staticmethod
    async def _drain(response: httpx2.Response) -> None:
        async for _ in response.aiter_raw():
            pass

    async def ends_within(self, seconds: float) -> bool:
        """Whether the server closes the stream within ``seconds``."""
        done, _ = await asyncio.wait({self._task}, timeout=seconds)
        return bool(done)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@asynccontextmanager
async def _watching(response: httpx2.Response) -> AsyncIterator[_Watch]:
    watch = _Watch(response)
    try:
        yield watch
    finally:
        await watch.stop()


# --- Open streams end with their credential ---------------------------------------------------

_STREAMS = ["/events/stream", "/missions/stream", "/api/v1/events/stream"]


@pytest.mark.parametrize("path", _STREAMS)
@pytest.mark.usefixtures("quick_checks")
async def test_an_open_stream_ends_when_its_session_is_revoked(site: FastAPI, path: str) -> None:
    ctx = site.state.ctx
    await add_user(ctx, "val", Role.VIEWER)
    async with _client(site) as val:
        assert (await val.sign_in("val")).status_code == 303
        async with val.http.stream("GET", path) as response, _watching(response) as stream:
            assert response.status_code == 200
            # A live session keeps its stream across many checks.
            assert not await stream.ends_within(10 * _RECHECK_S)
            await sessions.revoke_user_sessions(ctx, user_name="val", viewer=None, actor="system")
            assert await stream.ends_within(5.0), "the revoked session's stream stayed open"
        again = await val.http.get(path)
        assert again.status_code == 401


@pytest.mark.usefixtures("quick_checks")
async def test_an_open_api_stream_ends_when_its_token_is_revoked(site: FastAPI) -> None:
    ctx = site.state.ctx
    headers = await bearer_headers(ctx, "val", Role.VIEWER, token="val-feed")
    async with _client(site, headers) as client:
        url = "/api/v1/events/stream"
        async with client.http.stream("GET", url) as response, _watching(response) as stream:
            assert response.status_code == 200
            assert not await stream.ends_within(10 * _RECHECK_S)
            await identity.revoke_token(ctx, name="val-feed", actor="system")
            assert await stream.ends_within(5.0), "the revoked token's stream stayed open"


# --- Text the database cannot store is refused, not a 500 ---------------------------------------


async def test_a_sign_in_name_holding_a_nul_is_a_wrong_name(site: FastAPI) -> None:
    ctx = site.state.ctx
    await add_user(ctx, "val", Role.VIEWER)
    async with _client(site) as anyone:
        for name in ("\x00", "val\x00", "\x00val"):
            refused = await anyone.sign_in(name)
            assert refused.status_code == 401, (name, refused.status_code)
            assert "Wrong name or password." in refused.text
        assert (await anyone.sign_in("val")).status_code == 303
    failures = [e.payload for e in await read_event_page(ctx) if e.type == "user.sign_in_failed"]
    assert [f["name"] for f in failures] == [None, None, None]


async def test_signing_out_a_user_whose_name_holds_a_nul_is_a_404(site: FastAPI) -> None:
    ctx = site.state.ctx
    await add_user(ctx, "root", Role.ADMIN)
    async with _client(site) as root:
        assert (await root.sign_in("root")).status_code == 303
        token = await root.csrf("/sessions")
        answer = await root.http.post(
            "/sessions/revoke-all", data={"csrf_token": token, "user": "root\x00"}
        )
        assert answer.status_code == 404, answer.text
        assert (await root.http.get("/api/v1/me")).status_code == 200  # nothing ended


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serve(settings) as app, AsyncExitStack() as stack:
        yield Api(app, stack)


@pytest.mark.parametrize("field", ["reason", "override_reason"])
@pytest.mark.parametrize("text", ["ok\x00then", "\x1b[2J\x1b[31mapproved by the CISO\x07"])
async def test_the_approval_form_refuses_control_characters_in_its_reasons(
    ctx: ServiceContext, api: Api, field: str, text: str
) -> None:
    root = await api.browser("root", Role.ADMIN)
    run_id = await _start(root, await _save(root))
    pending = await _pending(root, run_id)
    form = {"decision": "approve", "override_reason": "the others are away", field: text}
    refused = await root.post(
        f"/approvals/{pending['id']}/decide", data=form, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 422, refused.text
    assert "control characters" in refused.text
    assert await _decisions(ctx, run_id) == []
    api_answer = await root.post(
        f"/api/v1/approvals/{pending['id']}/approve",
        json={"override_reason": "the others are away", field: text},
    )
    assert api_answer.status_code == 422, api_answer.text
    assert api_answer.json()["error"]["field"] == field
    assert await _decisions(ctx, run_id) == []


async def test_secrets_in_an_approvals_reasons_are_redacted(ctx: ServiceContext, api: Api) -> None:
    root = await api.browser("root", Role.ADMIN)
    run_id = await _start(root, await _save(root))
    pending = await _pending(root, run_id)
    token = "mc_" + "k" * 43
    form = {
        "decision": "approve",
        "reason": f"tested with Bearer {token}",
        "override_reason": f"key sk-{'z' * 24} is a test one",
    }
    decided = await root.post(f"/approvals/{pending['id']}/decide", data=form)
    assert decided.status_code == 303, decided.text
    [event] = await _decisions(ctx, run_id)
    assert token not in str(event.payload) and "z" * 24 not in str(event.payload)
    shown = (await root.get(f"/api/v1/approvals/{pending['id']}")).json()
    assert token not in str(shown) and "[REDACTED]" in shown["reason"]


# --- A password change racing a sign-in -----------------------------------------------------------


async def test_a_password_change_landing_just_after_the_check_ends_the_new_session(
    site: FastAPI,
) -> None:
    """The change commits right after the sign-in's password check commits: the session it
    opens must not outlive the change."""
    ctx = site.state.ctx
    await add_user(ctx, "val", Role.VIEWER)
    new_password = "a different horse entirely"
    changed: list[bool] = []

    def flushed(session: OrmSession, _: Any) -> None:
        if any(isinstance(o, User) and o.name == "val" for o in session.dirty):
            session.info["val_signed_in"] = True

    def committed(session: OrmSession) -> None:
        if session.info.pop("val_signed_in", False) and not changed:
            changed.append(True)  # once: set_password's own commit must not recurse
            await_only(
                identity.set_password(
                    ctx, name="val", password=_secret(new_password), actor="user:root"
                )
            )

    sa_event.listen(OrmSession, "after_flush", flushed)
    sa_event.listen(OrmSession, "after_commit", committed)
    try:
        async with _client(site) as val:
            signed_in = await val.sign_in("val")
            assert changed == [True]
            if signed_in.status_code == 303:
                assert (await val.http.get("/api/v1/me")).status_code == 401
            else:
                assert signed_in.status_code == 401
    finally:
        sa_event.remove(OrmSession, "after_flush", flushed)
        sa_event.remove(OrmSession, "after_commit", committed)
    listed = await sessions.list_sessions(ctx, user_name="val", viewer=None)
    assert not any(s.active for s in listed)


def _secret(text: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(text)


# --- The command line: odd names and a data directory it cannot write --------------------------


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``cli(*args)`` runs ``missionctl`` in-process on each database, in a fresh home."""
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    monkeypatch.delenv("MISSIONCTL_SERVER_SECRET_KEY", raising=False)
    monkeypatch.delenv("MISSIONCTL_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli_app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name", ["[/]", "[/red]", "[link=https://evil.example]root", "nobody"])
@pytest.mark.parametrize("command", [["user", "sessions"], ["user", "sign-out", "--everywhere"]])
def test_odd_user_names_are_named_back_not_a_traceback(
    cli: Any, command: list[str], name: str
) -> None:
    assert cli("user", "add", "root", "--role", "admin").exit_code == 0
    answer = cli(*command[:2], name, *command[2:])
    assert answer.exit_code == 1, answer.output
    assert f"no user is called {name!r}" in answer.output


def test_a_browser_name_holding_markup_is_listed_as_written(cli: Any, tmp_path: Path) -> None:
    from missionctl.services import open_context
    from missionctl.settings import get_settings

    assert cli("user", "add", "ada").exit_code == 0
    agent = "[/]evil [link=https://evil.example]Firefox[/link]"

    async def sign_in() -> None:
        async with open_context(get_settings()) as ctx:
            await sessions.start_session(ctx, user_name="ada", address="[/]", user_agent=agent)

    asyncio.run(sign_in())
    listed = cli("user", "sessions", "ada")
    assert listed.exit_code == 0, listed.output
    # Shown as written (the table may cut a long cell), not read as markup.
    assert "[/]evil" in listed.output and "[link=" in listed.output


@pytest.mark.parametrize("command", ["rotate-session-key", "rotate-audit-key", "rotate"])
def test_key_rotation_in_a_data_directory_it_cannot_write_is_refused(
    cli: Any, tmp_path: Path, command: str
) -> None:
    home = tmp_path / "home"
    assert cli("user", "list").exit_code == 0  # the database and home exist
    # What stands where the keys go cannot be replaced: as a read-only directory would be.
    (home / "secret_key").mkdir()
    (home / "checkpoints").write_text("not a directory")
    answer = cli("keys", command)
    assert answer.exit_code == 2, answer.output
    assert "nothing was changed" in " ".join(answer.output.split())

    async def rotations() -> list[Any]:
        from missionctl.services import open_context
        from missionctl.settings import get_settings

        async with open_context(get_settings()) as ctx:
            return [e for e in await read_event_page(ctx) if e.type == "security.key_rotated"]

    assert asyncio.run(rotations()) == []


@pytest.mark.parametrize("command", [["keys", "rotate-session-key"], ["user", "list"]])
def test_a_data_directory_that_cannot_be_made_is_named(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MISSIONCTL_HOME", str(blocker / "home"))
    answer = cli(*command)
    assert answer.exit_code == 2, answer.output
    assert "MISSIONCTL_HOME" in answer.output


# --- A one-time link in the server's access log --------------------------------------------------


def _every_byte_escaped(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode())


@pytest.mark.parametrize(
    "encode",
    [
        lambda token: token.replace("_", "%5F"),  # what some mail clients and link checkers send
        lambda token: token.replace("_", "%5f").replace("-", "%2D"),
        _every_byte_escaped,
    ],
)
def test_a_percent_encoded_sign_in_link_never_reaches_the_access_log(encode: Any) -> None:
    import io
    import logging
    import secrets

    from starlette.datastructures import QueryParams
    from uvicorn.logging import AccessFormatter
    from uvicorn.protocols.utils import get_path_with_query_string

    from missionctl.llm.redaction import install_log_redaction

    install_log_redaction()
    token = "mcl_" + secrets.token_urlsafe(32)
    query = f"next=/runs&token={encode(token)}"
    assert QueryParams(query)["token"] == token  # the server reads it as the link itself
    logger = logging.getLogger(f"test.access.{uuid.uuid4().hex}")
    logger.propagate, printed = False, io.StringIO()
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(printed)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    logger.addHandler(handler)
    scope: Any = {"path": "/sign-in", "root_path": "", "query_string": query.encode()}

    # The access log's own call (uvicorn's protocols), with the path as uvicorn builds it.
    path = get_path_with_query_string(scope)
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", path, "1.1", 200)

    line = printed.getvalue()
    body = token.removeprefix("mcl_")
    assert body not in line and encode(token) not in line, line
    assert "[REDACTED]" in line and '"GET /sign-in?next=/runs&token=' in line and "200" in line
