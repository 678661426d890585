"""Webhook addresses obey the address policy of ``http`` steps, when saved and when sent.

The attack: a subscription to ``http://127.0.0.1/…``, ``http://169.254.169.254/…`` (a cloud's
metadata service) or the same loopback spelt ``2130706433`` or ``0x7f000001`` was taken, and its
delivery log showed the target's answer: a way to read internal services from the server. Such
addresses are now refused (409 naming ``url`` and ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``)
unless an admin allowed their network; before every request the name is resolved and judged
again and the request goes to the address judged; only the status line and media type of an
answer are kept, never its body.
"""

import uuid

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.domain import events as ev
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.webhooks import WebhookCreate
from missionctl.security.signing import sign
from missionctl.services import ServiceContext, open_context
from missionctl.services.followers import WEBHOOK_OUTBOX, catch_up
from missionctl.services.usecases import webhooks as hooks
from missionctl.services.usecases.webhook_sender import dispatch_due
from missionctl.settings import HttpAgentSettings, Settings, WebhookSettings
from tests.support.auth import bearer_headers
from tests.webhooks.receiver import receiving

FAST = WebhookSettings(backoff_s=(10.0,), max_attempts=3, timeout_s=2.0)
FORBIDDEN = [
    "http://127.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://[::1]/hook",
    "http://10.0.0.7:8080/hook",
]
SECRET_ANSWER = b'{"AccessKeyId": "ASIA-internal-answer", "Token": "metadata-secret"}'


@pytest.mark.parametrize("url", FORBIDDEN)
async def test_a_subscription_to_a_private_address_is_refused_naming_the_setting(
    client: httpx2.AsyncClient, url: str
) -> None:
    refused = await client.post("/api/v1/webhooks", json={"url": url, "events": ["run.failed"]})

    assert refused.status_code == 409, refused.text
    [problem] = refused.json()["error"]["details"]
    assert problem["field"] == "url"
    assert "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS" in problem["message"]
    assert (await client.get("/api/v1/webhooks")).json() == []  # nothing was saved


async def test_an_address_changed_to_a_private_one_is_refused(client: httpx2.AsyncClient) -> None:
    made = await client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.test/x", "events": ["run.failed"]}
    )
    assert made.status_code == 201, made.text  # a name that does not resolve is judged when sent
    hook = made.json()["webhook"]["id"]

    changed = await client.patch(f"/api/v1/webhooks/{hook}", json={"url": "http://0x7f000001/"})

    assert changed.status_code == 409, changed.text
    assert changed.json()["error"]["details"][0]["field"] == "url"
    shown = (await client.get(f"/api/v1/webhooks/{hook}")).json()
    assert shown["url"] == "https://hooks.example.test/x"


async def test_an_allowed_network_may_be_subscribed(settings: Settings) -> None:
    allowed = settings.model_copy(
        update={"http_agent": HttpAgentSettings(allowed_networks=["127.0.0.0/8"])}
    )
    app = create_app(allowed)
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            data = {"url": "http://2130706433/hook", "events": ["run.failed"]}
            made = await http.post("/api/v1/webhooks", json=data)
            assert made.status_code == 201, made.text


async def _queue_one(ctx: ServiceContext, url: str) -> uuid.UUID:
    data = WebhookCreate.model_validate({"url": url, "events": [ev.RUN_FAILED]})
    created = await hooks.create_webhook(ctx, data=data, actor="user:admin")
    async with ctx.write() as session:
        event = NewEvent(type=ev.RUN_FAILED, actor="system", payload={"error": "x"})
        await append(session, [event])
    await catch_up(ctx, WEBHOOK_OUTBOX)
    return created.webhook.id


async def test_a_name_that_resolves_to_loopback_when_sent_is_not_sent(
    ctx: ServiceContext,
) -> None:
    with receiving() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        # Subscribed while the name led nowhere; when sent, it leads to this machine.
        webhook_id = await _queue_one(ctx, f"http://hooks.example.test:{port}/hook")

        async def rebound(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

        assert await dispatch_due(ctx, FAST, sign=sign, resolve=rebound) == 1

    assert receiver.requests == []  # nothing reached the receiver
    [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook_id)
    assert delivery.status == "failed" and delivery.attempts == 1  # refused for good
    assert delivery.status_code is None and delivery.response_body is None
    assert delivery.error is not None and delivery.error.startswith("refused: ")
    assert (
        "127.0.0.1" in delivery.error and "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS" in delivery.error
    )


async def test_an_allowed_name_is_sent_to_the_address_judged_and_its_body_is_not_kept(
    settings: Settings,
) -> None:
    allowed = settings.model_copy(
        update={"http_agent": HttpAgentSettings(allowed_networks=["127.0.0.1/32"])}
    )
    async with open_context(allowed) as ctx:
        with receiving(answer_body=SECRET_ANSWER) as receiver:
            port = receiver.url.split(":")[2].split("/")[0]
            webhook_id = await _queue_one(ctx, f"http://hooks.example.test:{port}/hook")
            lookups: list[str] = []

            async def resolve(host: str, port: int) -> list[str]:
                lookups.append(host)
                return ["127.0.0.1"]

            assert await dispatch_due(ctx, FAST, sign=sign, resolve=resolve) == 1

        [request] = receiver.requests  # reached through the address judged, not a new lookup
        assert request.headers["Host"] == f"hooks.example.test:{port}"
        assert lookups == ["hooks.example.test"]
        [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook_id)
        assert delivery.status == "delivered" and delivery.status_code == 200
        assert delivery.response_body == "HTTP 200 OK; no recognised media type"
        assert len(delivery.response_body) <= 200
        assert b"metadata-secret" not in (delivery.model_dump_json() or "").encode()


async def test_a_redirect_is_not_followed(settings: Settings) -> None:
    allowed = settings.model_copy(
        update={"http_agent": HttpAgentSettings(allowed_networks=["127.0.0.1/32"])}
    )
    async with open_context(allowed) as ctx:
        with receiving([302]) as receiver:
            webhook_id = await _queue_one(ctx, receiver.url)
            assert await dispatch_due(ctx, FAST, sign=sign) == 1
        assert len(receiver.requests) == 1
        [delivery] = await hooks.list_deliveries(ctx, webhook_id=webhook_id)
        assert delivery.status == "pending" and delivery.status_code == 302
