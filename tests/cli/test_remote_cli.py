"""The CLI against a real server over HTTP (``MISSIONCTL_URL`` + ``MISSIONCTL_TOKEN``).

The app runs under uvicorn on a loopback port, on each database; the CLI runs in-process with a
private home of its own, so anything it did locally instead of through the server would show.
"""

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app
from missionctl.domain.access import Role
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.settings import Settings
from tests.conftest import LiveServer, free_port
from tests.support.auth import ensure_user

GOAL = "Write a command-line tool that converts CSV files to Parquet with schema inference"


@dataclass(frozen=True)
class Server:
    """A live server and the secrets of the tokens made on it."""

    url: str
    database_url: str
    operator: str  # token "ci-bot" of alice, an operator
    viewer: str  # token "peek" of vera, a viewer
    revoked: str  # token "old-bot" of alice, revoked


async def _make_tokens(settings: Settings) -> tuple[str, str, str]:
    async with open_context(settings, upgrade=False) as ctx:
        await ensure_user(ctx, "alice", Role.OPERATOR)
        await ensure_user(ctx, "vera", Role.VIEWER)
        _, operator = await identity.create_token(
            ctx, user_name="alice", name="ci-bot", actor="system"
        )
        _, viewer = await identity.create_token(ctx, user_name="vera", name="peek", actor="system")
        _, revoked = await identity.create_token(
            ctx, user_name="alice", name="old-bot", actor="system"
        )
        await identity.revoke_token(ctx, name="old-bot", actor="system")
    return operator, viewer, revoked


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    live = LiveServer(settings)
    live.start()
    try:
        # The test body is synchronous (the CLI runs its own event loop for local commands).
        operator, viewer, revoked = asyncio.run(_make_tokens(settings))
        yield Server(live.url, settings.database_url, operator, viewer, revoked)
    finally:
        live.stop()


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the CLI's own; no local database is configured."""
    home = tmp_path / "cli-home"
    monkeypatch.setenv("MISSIONCTL_HOME", str(home))
    for name in ("MISSIONCTL_DATABASE_URL", "MISSIONCTL_URL", "MISSIONCTL_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return home


def invoke(url: str | None, token: str | None, *args: str) -> Result:
    env = {"MISSIONCTL_URL": url, "MISSIONCTL_TOKEN": token}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def text(result: Result) -> str:
    """The output (stdout and stderr) with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def assert_secret_hidden(secret: str, *results: Result) -> None:
    # Pieces too, in case Rich wrapped the secret across lines.
    for result in results:
        for piece in (secret, secret[3:15], secret[-12:]):
            assert piece not in result.output


def test_mission_create_list_show_go_through_the_server_as_the_token(
    server: Server, cli_home: Path
) -> None:
    def run(*args: str) -> Result:
        return invoke(server.url, server.operator, *args)

    created = run("mission", "create", GOAL, "-c", "Python 3.11", "--budget-usd", "2.5", "--json")
    assert created.exit_code == 0, created.output
    mission = json.loads(created.output)
    assert mission["created_by"] == "token:ci-bot"
    assert mission["constraints"] == ["Python 3.11"] and mission["budget_usd"] == 2.5

    listed = run("mission", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [m["id"] for m in json.loads(listed.output)["items"]] == [mission["id"]]
    filtered = run("mission", "list", "--status", "planned", "-q", "Parquet", "--json")
    assert json.loads(filtered.output)["total"] == 0
    table = run("mission", "list")
    assert "Missions (1)" in table.output

    shown = run("mission", "show", mission["id"])
    assert shown.exit_code == 0, shown.output
    assert "status draft" in text(shown) and "by token:ci-bot" in text(shown)
    assert "plan none yet" in text(shown)
    as_json = run("mission", "show", mission["id"], "--json")
    assert json.loads(as_json.output) == mission

    unknown = run("mission", "show", str(uuid.uuid4()))
    assert unknown.exit_code == 1 and "no mission with id" in unknown.output
    wrong_base = invoke(f"{server.url}/nope", server.operator, "mission", "list")
    assert wrong_base.exit_code == 1
    assert "is MISSIONCTL_URL the server's base URL?" in text(wrong_base)

    assert not cli_home.exists(), "the CLI touched a local database"
    assert_secret_hidden(
        server.operator, created, listed, table, shown, as_json, unknown, wrong_base
    )


def test_whoami_names_the_tokens_identity(server: Server, cli_home: Path) -> None:
    shown = invoke(server.url, server.operator, "whoami")
    assert shown.exit_code == 0, shown.output
    assert "token:ci-bot" in text(shown) and "user alice" in text(shown)
    assert "role operator" in text(shown) and server.url in text(shown)

    as_json = json.loads(invoke(server.url, server.viewer, "whoami", "--json").output)
    assert as_json["actor"] == "token:peek" and as_json["user_name"] == "vera"
    assert as_json["role"] == "viewer" and "missions:write" not in as_json["permissions"]

    local = invoke(None, None, "whoami")
    assert local.exit_code == 0 and "system" in local.output
    assert_secret_hidden(server.operator, shown)


def test_a_revoked_token_is_refused_clearly(server: Server, cli_home: Path) -> None:
    for args in (("whoami",), ("mission", "list")):
        result = invoke(server.url, server.revoked, *args)
        assert result.exit_code == 2, result.output
        assert "unknown, revoked or expired" in text(result)
        assert "refused MISSIONCTL_TOKEN" in text(result)
        # In the CLI's terms: the command that makes a token, not how an HTTP client sends one.
        assert "missionctl token create" in text(result) and "Bearer" not in text(result)
        assert_secret_hidden(server.revoked, result)


def test_a_viewer_reads_but_cannot_create_a_mission(server: Server, cli_home: Path) -> None:
    refused = invoke(server.url, server.viewer, "mission", "create", GOAL)
    assert refused.exit_code == 2, refused.output
    assert "missions:write needs the operator role or above; you act as viewer" in text(refused)
    listed = invoke(server.url, server.viewer, "mission", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.output)["total"] == 0
    assert_secret_hidden(server.viewer, refused, listed)


def test_local_only_commands_keep_using_the_local_database(
    server: Server, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI's database is the server's here, so that the local commands have data to show.
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", server.database_url)
    settings = invoke(server.url, server.operator, "config", "show", "--json")
    assert settings.exit_code == 0, settings.output
    # `token list` has an API, so it goes to the server, where an operator may not list tokens.
    tokens = invoke(server.url, server.operator, "token", "list", "--json")
    assert tokens.exit_code == 2, tokens.output
    assert "tokens:admin needs the admin role or above; you act as operator" in text(tokens)
    assert_secret_hidden(server.operator, tokens, settings)


def test_an_unreachable_server_is_named(cli_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    secret = "mc_" + "s3cr3t-never-printed" * 2
    for args in (("mission", "list"), ("whoami",)):
        result = invoke(url, secret, *args)
        assert result.exit_code == 3, result.output  # the network's fault: fix it and retry
        assert f"cannot reach the Mission Control server at {url} (MISSIONCTL_URL)" in text(result)
        assert_secret_hidden(secret, result)


@pytest.mark.parametrize(
    ("url", "token", "named"),
    [
        ("http://127.0.0.1:9", None, "MISSIONCTL_TOKEN is not"),
        (None, "mc_abc", "MISSIONCTL_URL is not"),
        ("ftp://127.0.0.1", "mc_abc", "setting MISSIONCTL_URL"),
        ("http://127.0.0.1:9", "mc_a b", "setting MISSIONCTL_TOKEN"),
    ],
)
def test_incomplete_or_invalid_settings_are_named(
    cli_home: Path, url: str | None, token: str | None, named: str
) -> None:
    result = invoke(url, token, "mission", "list")
    assert result.exit_code == 2, result.output
    assert named in text(result)
    assert "mc_a b" not in result.output
    assert not cli_home.exists()
