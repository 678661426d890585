"""``missionctl webhooks …`` on the local database (both backends) and through a live server."""

import asyncio
import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app
from missionctl.domain.access import Role
from missionctl.security.signing import SIGNATURE_HEADER, verify
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.settings import HttpAgentSettings, Settings
from tests.conftest import LiveServer
from tests.support.auth import ensure_user
from tests.webhooks.receiver import receiving


@pytest.fixture
def sqlite_settings(sqlite_settings: Settings) -> Settings:
    """The live server's settings, with the receivers' loopback address allowed."""
    return sqlite_settings.model_copy(
        update={"http_agent": HttpAgentSettings(allowed_networks=["127.0.0.1/32"])}
    )


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_a_subscription_is_added_tested_switched_and_deleted_locally(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver listens on loopback, which webhooks reach only where an admin allowed it.
    monkeypatch.setenv("MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    with receiving([500]) as receiver:
        added = ok(cli("webhooks", "add", receiver.url, "-e", "run.failed", "-e", "worker.offline"))
        secret = added.stdout.strip().splitlines()[-1]
        assert secret.startswith("whsec_")
        [hook] = json.loads(ok(cli("webhooks", "list", "--json")).stdout)
        assert hook["events"] == ["run.failed", "worker.offline"] and secret not in str(hook)
        assert secret not in ok(cli("webhooks", "show", hook["id"])).stdout

        first = ok(cli("webhooks", "test", hook["id"]))
        assert "webhook.test  pending  500" in first.stdout
        [delivery] = json.loads(ok(cli("webhooks", "deliveries", hook["id"], "--json")).stdout)
        assert delivery["status_code"] == 500
        again = ok(cli("webhooks", "redeliver", delivery["id"]))
        assert "delivered  200" in again.stdout
    for request in receiver.requests:
        verify(secret, request.body, request.headers[SIGNATURE_HEADER])

    assert "off" in ok(cli("webhooks", "disable", hook["id"])).stdout
    assert json.loads(ok(cli("webhooks", "show", hook["id"], "--json")).stdout)["enabled"] is False
    ok(cli("webhooks", "enable", hook["id"]))
    ok(cli("webhooks", "delete", hook["id"]))
    missing = cli("webhooks", "show", hook["id"])
    assert missing.exit_code == 1 and "no webhook has the id" in missing.output


def test_bad_options_are_named_and_nothing_is_stored(cli: Any) -> None:
    scheme = cli("webhooks", "add", "ftp://x.example/", "-e", "run.failed")
    assert scheme.exit_code == 2 and "URL: the address must start with" in scheme.output
    unknown = cli("webhooks", "add", "https://x.example/", "-e", "run.exploded")
    assert unknown.exit_code == 2 and "--event" in unknown.output
    huge = cli("webhooks", "add", "https://x.example/" + "a" * 3000, "-e", "run.failed")
    assert huge.exit_code == 2 and "URL" in huge.output
    assert json.loads(ok(cli("webhooks", "list", "--json")).stdout) == []


def test_the_commands_go_through_a_server_as_an_admin_only(live_server: LiveServer) -> None:
    async def tokens() -> tuple[str, str]:
        async with open_context(live_server.settings, upgrade=False) as ctx:
            made = []
            for user, role in (("ada", Role.ADMIN), ("otto", Role.OPERATOR)):
                await ensure_user(ctx, user, role)
                _, secret = await identity.create_token(
                    ctx, user_name=user, name=f"{user}-cli", actor="system"
                )
                made.append(secret)
            return made[0], made[1]

    admin, operator = asyncio.run(tokens())

    def remote(token: str, *args: str) -> Result:
        env = {"MISSIONCTL_URL": live_server.url, "MISSIONCTL_TOKEN": token}
        return CliRunner().invoke(app, ["webhooks", *args], env=env, catch_exceptions=False)

    with receiving() as receiver:
        added = ok(remote(admin, "add", receiver.url, "-e", "run.completed", "--format", "slack"))
        secret = added.stdout.strip().splitlines()[-1]
        [hook] = json.loads(ok(remote(admin, "list", "--json")).stdout)
        assert "delivered  200" in ok(remote(admin, "test", hook["id"])).stdout
        refused = remote(operator, "list")
        assert refused.exit_code == 2
        assert "webhooks:admin needs the admin role" in refused.output
        ok(remote(admin, "disable", hook["id"]))
        ok(remote(admin, "delete", hook["id"]))
    [request] = receiver.requests
    verify(secret, request.body, request.headers[SIGNATURE_HEADER])
    assert list(json.loads(request.body)) == ["text"]
