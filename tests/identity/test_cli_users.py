"""`missionctl user|token|login-link`, run in-process against each database."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missionctl.cli import app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    monkeypatch.setenv("MISSIONCTL_SERVER_PORT", "8123")
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=stdin, catch_exceptions=False)

    return invoke


def test_user_add_list_set_role_disable(run) -> None:  # type: ignore[no-untyped-def]
    added = run(
        "user", "add", "ada", "--role", "approver", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    assert "ada" in added.output and "approver" in added.output
    assert PASSWORD not in added.output
    assert run("user", "add", "root", "--role", "admin").exit_code == 0

    users = json.loads(run("user", "list", "--json").output)
    assert [(u["name"], u["role"], u["has_password"]) for u in users] == [
        ("ada", "approver", True),
        ("root", "admin", False),
    ]
    assert "Users (2)" in run("user", "list").output

    changed = run("user", "set-role", "ada", "viewer")
    assert changed.exit_code == 0 and "viewer" in changed.output
    disabled = run("user", "disable", "ada")
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert "OK" in run("audit", "verify").output


def test_user_errors_name_the_option(run) -> None:  # type: ignore[no-untyped-def]
    bad_name = run("user", "add", "Ada Lovelace")
    assert bad_name.exit_code == 2 and "NAME" in bad_name.output
    short = run("user", "add", "ada", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2 and "--password-stdin" in short.output
    bad_role = run("user", "add", "ada", "--role", "root")
    assert bad_role.exit_code == 2 and "--role" in bad_role.output
    assert run("user", "add", "ada").exit_code == 0
    duplicate = run("user", "add", "ada")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    missing = run("user", "set-role", "nobody", "admin")
    assert missing.exit_code == 1 and "nobody" in missing.output
    last_admin = run("user", "add", "root", "--role", "admin")
    assert last_admin.exit_code == 0
    refused = run("user", "disable", "root")
    assert refused.exit_code == 2 and "only enabled admin" in refused.output
    no_stdin = run("user", "set-password", "ada")
    assert no_stdin.exit_code == 2 and "--password-stdin" in no_stdin.output


def test_set_password(run) -> None:  # type: ignore[no-untyped-def]
    assert run("user", "add", "ada").exit_code == 0
    result = run("user", "set-password", "ada", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(run("user", "list", "--json").output)[0]["has_password"] is True


def test_login_link_prints_a_one_time_url(run) -> None:  # type: ignore[no-untyped-def]
    assert run("user", "add", "ada").exit_code == 0
    result = run("login-link", "ada", "--ttl-minutes", "5")
    assert result.exit_code == 0, result.output
    url = next(line for line in result.output.splitlines() if line.startswith("http"))
    assert url.startswith("http://127.0.0.1:8123/sign-in?token=mcl_")
    missing = run("login-link", "nobody")
    assert missing.exit_code == 1 and "nobody" in missing.output
    too_long = run("login-link", "ada", "--ttl-minutes", "5000")
    assert too_long.exit_code == 2 and "--ttl-minutes" in too_long.output


def test_token_create_list_revoke(run) -> None:  # type: ignore[no-untyped-def]
    assert run("user", "add", "ada", "--role", "operator").exit_code == 0
    created = run(
        "token",
        "create",
        "ci",
        "--user",
        "ada",
        "--role-ceiling",
        "viewer",
        "--expires-in-days",
        "30",
    )
    assert created.exit_code == 0, created.output
    # The secret alone on stdout, first; the details and the warning after it, on stderr.
    secret = created.stdout.strip()
    assert secret.startswith("mc_") and "\n" not in secret
    assert created.output.strip().splitlines()[0] == secret
    assert "token ci  user ada  ceiling viewer" in created.stderr

    listed = run("token", "list", "--json")
    [token] = json.loads(listed.output)
    assert token["name"] == "ci" and token["prefix"] == secret[:8]
    assert token["role_ceiling"] == "viewer" and token["expires_at"] is not None
    assert secret not in listed.output and "hash" not in listed.output
    table = run("token", "list", "--user", "ada")
    assert "API tokens (1)" in table.output and secret not in table.output

    revoked = run("token", "revoke", "ci")
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert json.loads(run("token", "list", "--json").output)[0]["revoked_at"] is not None


def test_token_errors_name_the_option(run) -> None:  # type: ignore[no-untyped-def]
    assert run("user", "add", "ada", "--role", "viewer").exit_code == 0
    above = run("token", "create", "ci", "--user", "ada", "--role-ceiling", "admin")
    assert above.exit_code == 2 and "--role-ceiling" in above.output
    bad_name = run("token", "create", "CI token", "--user", "ada")
    assert bad_name.exit_code == 2 and "NAME" in bad_name.output
    no_user = run("token", "create", "ci", "--user", "nobody")
    assert no_user.exit_code == 1 and "nobody" in no_user.output
    zero_days = run("token", "create", "ci", "--user", "ada", "--expires-in-days", "0")
    assert zero_days.exit_code == 2 and "--expires-in-days" in zero_days.output
    missing = run("token", "revoke", "nope")
    assert missing.exit_code == 1 and "nope" in missing.output


def test_a_common_password_is_refused_with_its_reason(run) -> None:  # type: ignore[no-untyped-def]
    added = run("user", "add", "ada", "--password-stdin", stdin="password1234\n")
    assert added.exit_code == 2
    words = " ".join(added.output.split())  # the console wraps long lines
    assert "--password-stdin: is one of the 10,000 most common passwords" in words
    assert json.loads(run("user", "list", "--json").output) == []
    assert run("user", "add", "ada").exit_code == 0
    named = run("user", "set-password", "ada", "--password-stdin", stdin="ada-lovelace-1815\n")
    assert named.exit_code == 2 and "contains the user's name" in " ".join(named.output.split())
    assert json.loads(run("user", "list", "--json").output)[0]["has_password"] is False


def test_sessions_and_sign_out_everywhere(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from missionctl.services import open_context
    from missionctl.services.usecases import sessions
    from missionctl.settings import Settings

    assert run("user", "add", "ada").exit_code == 0

    async def sign_in_twice() -> tuple[str, str]:
        async with open_context(Settings()) as ctx:
            first = await sessions.start_session(
                ctx, user_name="ada", address="192.0.2.7", user_agent="Firefox/140"
            )
            second = await sessions.start_session(
                ctx, user_name="ada", address="192.0.2.8", user_agent="Safari/18"
            )
            assert first is not None and second is not None
            return first, second

    async def still_in(secret: str) -> bool:
        async with open_context(Settings()) as ctx:
            return await sessions.authenticate_session(ctx, secret=secret) is not None

    secrets = asyncio.run(sign_in_twice())
    listed = json.loads(run("user", "sessions", "ada", "--json").output)
    assert [(s["address"], s["active"]) for s in listed] == [
        ("192.0.2.8", True),
        ("192.0.2.7", True),
    ]
    assert "Safari/18" in run("user", "sessions", "ada").output

    refused = run("user", "sign-out", "ada")
    assert refused.exit_code == 2 and "--everywhere" in refused.output
    assert all(asyncio.run(still_in(secret)) for secret in secrets)

    done = run("user", "sign-out", "ada", "--everywhere")
    assert done.exit_code == 0 and "2 session(s) ended" in done.output
    assert not any(asyncio.run(still_in(secret)) for secret in secrets)
    assert [s["active"] for s in json.loads(run("user", "sessions", "ada", "--json").output)] == [
        False,
        False,
    ]
    missing = run("user", "sign-out", "nobody", "--everywhere")
    assert missing.exit_code == 1 and "nobody" in missing.output
