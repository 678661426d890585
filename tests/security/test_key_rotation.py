"""Recovery after a leak: `missionctl keys rotate-session-key | rotate-audit-key | rotate`.

Whoever copied ``MISSIONCTL_HOME/secret_key`` can sign an admin's session cookie; whoever copied
``audit_signing_key.pem`` can sign checkpoints over a rewritten log. Rotating must end the
first's sessions at once (a running server follows the file) and retire the second's key: its
old checkpoints still verify, anything it signs afterwards is refused. Neither key may show in
the output or the log, a refusal changes nothing, and two rotations at once leave one key.
"""

import asyncio
import json
import stat
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from missionctl.app import create_app
from missionctl.cli import app as cli_app
from missionctl.domain.access import Role
from missionctl.eventlog import EventRecord, read_events
from missionctl.eventlog.checkpoints import SigningKey, load_signing_key, write_checkpoint
from missionctl.security.session_key import SessionKeySource
from missionctl.security.sessions import load_secret_key
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.keys import rotate_audit_key, rotate_session_key
from missionctl.settings import EngineSettings, Settings, get_settings
from tests.eventlog.helpers import append_events, chain_head
from tests.support.auth import ensure_user, sign_in_link_secret
from tests.support.consistency import assert_consistent

Cli = Callable[..., Result]


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli(*args)`` runs ``missionctl`` in-process on each database, in a fresh home."""
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    monkeypatch.delenv("MISSIONCTL_SERVER_SECRET_KEY", raising=False)
    monkeypatch.delenv("MISSIONCTL_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli_app, list(args), catch_exceptions=False)


def on_database(work: Callable[[ServiceContext], Any]) -> Any:
    """``await work(ctx)`` on the database and home the `cli` fixture's environment names."""

    async def go() -> Any:
        async with open_context(get_settings()) as ctx:
            return await work(ctx)

    return asyncio.run(go())


async def _events(ctx: ServiceContext) -> list[EventRecord]:
    async with ctx.read() as session:
        return await read_events(session)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- The session key -------------------------------------------------------------------------


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[FastAPI]:
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        yield app
        await assert_consistent(app.state.ctx)


@asynccontextmanager
async def _signed_in(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """A browser signed in as the admin ``ada`` through a one-time link."""
    await ensure_user(app.state.ctx, "ada", Role.ADMIN)
    secret = await sign_in_link_secret(app.state.ctx, "ada")
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"Accept": "text/html"}
    ) as http:
        assert (await http.get("/sign-in", params={"token": secret})).status_code == 303
        yield http


async def test_a_session_signed_before_the_rotation_is_refused_by_the_running_server(
    server: FastAPI,
) -> None:
    ctx: ServiceContext = server.state.ctx
    async with _signed_in(server) as browser:
        assert (await browser.get("/missions")).status_code == 200
        assert (await browser.get("/api/v1/missions")).status_code == 200
        old_key = (ctx.settings.home / "secret_key").read_text()

        await rotate_session_key(ctx, actor="system")
        # At once, before the server has read the new key file: the session is revoked on
        # the server, so the cookie, still validly signed with the old key, is refused.
        assert (await browser.get("/api/v1/missions")).status_code == 401
        await asyncio.sleep(1.1)  # the server compares the file's identity once a second

        page = await browser.get("/missions")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/sign-in")
        api = await browser.get("/api/v1/missions", headers={"Accept": "application/json"})
        assert api.status_code == 401
    new_key = (ctx.settings.home / "secret_key").read_text()
    assert new_key != old_key and len(new_key) >= 32
    rotated = [e for e in await _events(ctx) if e.type == "security.key_rotated"]
    assert [(e.actor, e.payload) for e in rotated] == [
        ("system", {"key": "session", "sessions_ended": 1})
    ]
    # A sign-in after the rotation works with the new key.
    async with _signed_in(server) as again:
        assert (await again.get("/missions")).status_code == 200


def test_rotate_session_key_writes_a_private_key_it_never_shows(cli: Cli) -> None:
    on_database(lambda ctx: append_events(ctx, 1))
    home = get_settings().home
    before = load_secret_key(get_settings())  # the key a server made on its first start

    result = cli("keys", "rotate-session-key")

    assert result.exit_code == 0, result.output
    assert "every browser session is signed out" in result.stdout.lower()
    key_file = home / "secret_key"
    key = key_file.read_text()
    assert key != before and len(key) >= 32
    assert _mode(key_file) == 0o600
    events = on_database(_events)
    for secret in (key, before):
        assert secret not in result.stdout and secret not in result.stderr
        assert secret not in json.dumps([e.payload for e in events])
    rotated = [e.payload for e in events if e.type == "security.key_rotated"]
    assert rotated == [{"key": "session", "sessions_ended": 0}]
    assert [p.name for p in home.iterdir() if p.name.startswith(".secret_key")] == []


def test_with_the_key_in_a_setting_rotation_is_refused_and_changes_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_database(lambda ctx: append_events(ctx, 1))
    assert cli("audit", "checkpoint").exit_code == 0
    home = get_settings().home
    audit_key = (home / "audit_signing_key.pem").read_bytes()
    checkpoints = sorted(p.name for p in (home / "checkpoints").rglob("*"))
    monkeypatch.setenv("MISSIONCTL_SERVER_SECRET_KEY", "a-session-key-given-by-the-environment")

    for command in ("rotate-session-key", "rotate"):
        result = cli("keys", command)
        assert result.exit_code == 2, result.output
        assert "MISSIONCTL_SERVER_SECRET_KEY" in result.stderr
        assert "set it to a new random value" in result.stderr
        assert "a-session-key-given-by-the-environment" not in result.output

    assert not (home / "secret_key").exists()
    assert (home / "audit_signing_key.pem").read_bytes() == audit_key
    assert sorted(p.name for p in (home / "checkpoints").rglob("*")) == checkpoints
    assert [e.type for e in on_database(_events)] == ["test.happened"]


def test_a_replacement_key_file_others_may_read_is_not_adopted(tmp_path: Path) -> None:
    now = [0.0]
    source = SessionKeySource(Settings(home=tmp_path / "home"), clock=lambda: now[0])
    first = source()
    key_file = tmp_path / "home" / "secret_key"
    assert _mode(key_file) == 0o600

    key_file.write_text("k" * 64)
    key_file.chmod(0o644)
    now[0] += 1.0
    assert source() == first  # refused: a key others may read signs nothing

    key_file.unlink()
    key_file.write_text("n" * 64)
    key_file.chmod(0o600)
    now[0] += 0.5
    assert source() == first  # not checked again within the second
    now[0] += 0.5
    assert source() == "n" * 64


@pytest.mark.both_databases
async def test_two_session_rotations_at_once_leave_one_whole_key(ctx: ServiceContext) -> None:
    await asyncio.gather(*(rotate_session_key(ctx, actor="system") for _ in range(2)))
    key_file = ctx.settings.home / "secret_key"
    assert len(key_file.read_text()) == 64 and _mode(key_file) == 0o600
    assert [p.name for p in ctx.settings.home.iterdir() if p.name.startswith(".secret")] == []


# --- The audit signing key -------------------------------------------------------------------


def _current_key() -> SigningKey:
    """The signing key as a thief copied it before the rotation."""
    key = load_signing_key(get_settings().audit_key_path, create=False)
    assert key is not None
    return key


def test_verify_holds_across_an_audit_key_rotation(cli: Cli) -> None:
    on_database(lambda ctx: append_events(ctx, 3))
    assert cli("audit", "checkpoint").exit_code == 0
    old = _current_key()
    settings = get_settings()

    result = cli("keys", "rotate-audit-key")

    assert result.exit_code == 0, result.output
    new = load_signing_key(settings.audit_key_path, create=False)
    assert new is not None and new.key_id != old.key_id
    assert f"key {old.key_id} retired after seq 3; new key {new.key_id}" in result.stdout
    assert "first checkpoint with the new key at seq 4" in result.stdout
    assert _mode(settings.audit_key_path) == 0o600
    keys_dir = settings.audit_checkpoint_dir / "keys"
    assert (keys_dir / f"{old.key_id}.pem").is_file()
    assert (keys_dir / f"{new.key_id}.pem").is_file()
    rotated = [e for e in on_database(_events) if e.type == "security.key_rotated"]
    assert [e.payload for e in rotated] == [
        {"key": "audit", "old_key_id": old.key_id, "new_key_id": new.key_id, "last_seq": 3}
    ]
    pems = [settings.audit_key_path.read_text(), _pem(old)]
    for secret in pems:
        assert secret not in result.output and secret not in json.dumps(rotated[0].payload)

    on_database(lambda ctx: append_events(ctx, 2))
    assert cli("audit", "checkpoint").exit_code == 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "OK 3 checkpoints; the latest at seq 6" in verified.stdout
    assert f"key {new.key_id}" in verified.stdout


def _pem(key: SigningKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_a_checkpoint_the_old_key_signs_after_the_rotation_is_refused(cli: Cli) -> None:
    on_database(lambda ctx: append_events(ctx, 3))
    assert cli("audit", "checkpoint").exit_code == 0
    stolen = _current_key()
    assert cli("keys", "rotate-audit-key").exit_code == 0
    on_database(lambda ctx: append_events(ctx, 2))
    seq, digest = on_database(chain_head)
    directory = get_settings().audit_checkpoint_dir

    # The thief signs the true head, dated now, and one backdated before the rotation.
    write_checkpoint(
        directory, stolen.sign(seq=seq, hash=digest, time=datetime.now(UTC)), stolen.public_key
    )
    backdated = datetime.now(UTC) - timedelta(days=1)
    write_checkpoint(
        directory,
        stolen.sign(seq=seq - 1, hash=_hash_at(seq - 1), time=backdated),
        stolen.public_key,
    )

    result = cli("audit", "verify")
    assert result.exit_code == 1, result.output
    refused = [line for line in result.stdout.splitlines() if "after it was retired" in line]
    assert len(refused) == 2, result.stdout
    assert all(f"key {stolen.key_id}" in line for line in refused)
    # The checkpoints signed before the rotation, and the new key's, still hold.
    assert "OK 2 checkpoints" in result.stdout


def _hash_at(seq: int) -> str:
    async def read(ctx: ServiceContext) -> str:
        async with ctx.read() as session:
            return (await read_events(session, after_seq=seq - 1, limit=1))[0].hash

    result: str = on_database(read)
    return result


def test_a_restored_retired_key_signs_nothing(cli: Cli) -> None:
    on_database(lambda ctx: append_events(ctx, 1))
    assert cli("audit", "checkpoint").exit_code == 0
    key_path = get_settings().audit_key_path
    backup = key_path.read_bytes()
    assert cli("keys", "rotate-audit-key").exit_code == 0
    key_path.write_bytes(backup)  # an old backup of the data directory put back

    result = cli("audit", "checkpoint")
    assert result.exit_code == 2, result.output
    assert "retired" in result.stderr and "rotate-audit-key" in result.stderr
    # Rotating again keeps the first retirement (a later one would widen what the key signs).
    retired = get_settings().audit_checkpoint_dir / "keys"
    records = {p.name: p.read_text() for p in retired.glob("*.retired.json")}
    assert cli("keys", "rotate-audit-key").exit_code == 0
    assert {p.name: p.read_text() for p in retired.glob("*.retired.json")} == records
    assert cli("audit", "verify").exit_code == 0


@pytest.mark.both_databases
def test_two_audit_rotations_at_once_leave_one_valid_key(cli: Cli) -> None:
    on_database(lambda ctx: append_events(ctx, 2))
    assert cli("audit", "checkpoint").exit_code == 0
    first = _current_key()
    done: list[Any] = []
    errors: list[BaseException] = []

    def rotate() -> None:
        try:
            done.append(on_database(lambda ctx: rotate_audit_key(ctx, actor="system")))
        except BaseException as exc:  # reported below, with the other thread's outcome
            errors.append(exc)

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(done) == 2

    settings = get_settings()
    current = load_signing_key(settings.audit_key_path, create=False)
    assert current is not None and _mode(settings.audit_key_path) == 0o600
    # One after the other: the first retired the original key, the second the first's key.
    assert {r.old_key_id for r in done} == {first.key_id, *(r.new_key_id for r in done)} - {
        current.key_id
    }
    assert current.key_id in {r.new_key_id for r in done}
    retired = {
        p.name.split(".")[0]
        for p in (settings.audit_checkpoint_dir / "keys").glob("*.retired.json")
    }
    assert current.key_id not in retired and len(retired) == 2
    assert cli("audit", "checkpoint").exit_code == 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
