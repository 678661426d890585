"""The Webhooks page on both databases: the secret shown once, the log, the buttons, admins only."""

import re
import uuid

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.security.signing import SIGNATURE_HEADER, verify
from missionctl.services import ServiceContext
from missionctl.services.usecases import webhooks as hooks
from missionctl.settings import HttpAgentSettings, Settings
from tests.support.auth import bearer_headers
from tests.webhooks.receiver import receiving


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receivers listen on loopback, which webhooks reach only where an admin allowed it."""
    return settings.model_copy(
        update={"http_agent": HttpAgentSettings(allowed_networks=["127.0.0.1/32"])}
    )


async def test_an_admin_adds_tests_redelivers_and_deletes_from_the_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    empty = await client.get("/webhooks")
    assert empty.status_code == 200 and "No webhooks yet" in empty.text
    assert 'href="/webhooks"' in empty.text  # in the admin's navigation
    with receiving([500]) as receiver:
        form = {
            "url": receiver.url,
            "events": ["run.failed", "schedule.misfired"],
            "format": "json",
        }
        added = await client.post("/webhooks", data=form)
        assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
        found = re.search(r"<code class=\"secret\" data-secret>(whsec_[^<]+)</code>", added.text)
        assert found is not None
        secret = found.group(1)
        [hook] = await hooks.list_webhooks(ctx)
        page = await client.get("/webhooks")
        assert secret not in page.text and receiver.url in page.text  # shown once, only once

        tested = await client.post(f"/webhooks/{hook.id}/test")
        assert (tested.status_code, tested.headers["location"]) == (303, "/webhooks")
        [delivery] = await hooks.list_deliveries(ctx, webhook_id=hook.id)
        page = (await client.get("/webhooks")).text
        assert f'data-delivery="{delivery.id}" data-status="pending"' in page
        assert "the receiver answered 500" in page
        again = await client.post(f"/webhooks/deliveries/{delivery.id}/redeliver")
        assert again.status_code == 303
        page = (await client.get("/webhooks")).text
        assert 'data-status="delivered"' in page
    for request in receiver.requests:
        verify(secret, request.body, request.headers[SIGNATURE_HEADER])

    off = await client.post(f"/webhooks/{hook.id}/enabled", data={"enabled": "false"})
    assert off.status_code == 303
    assert (await hooks.read_webhook(ctx, webhook_id=hook.id)).enabled is False
    assert (await client.post(f"/webhooks/{hook.id}/delete")).status_code == 303
    assert await hooks.list_webhooks(ctx) == []
    missing = await client.post(f"/webhooks/{uuid.uuid4()}/test", headers={"accept": "text/html"})
    assert missing.status_code == 404


async def test_bad_form_input_comes_back_with_messages_and_saves_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    for form, field, message in (
        ({"url": "ftp://x.example/", "events": ["run.failed"]}, "url", "The address must start"),
        ({"url": "https://x.example/" + "a" * 3000, "events": ["run.failed"]}, "url", "Too long"),
        ({"url": "https://x.example/"}, "events", "Tick at least one event"),
        ({"url": "https://x.example/", "events": ["run.exploded"]}, "events", "Tick at least"),
        (
            {"url": "https://x.example/", "events": ["run.failed"], "format": "xml"},
            "format",
            "Choose",
        ),
    ):
        refused = await client.post("/webhooks", data=form)
        assert refused.status_code == 422, form
        assert f'data-field="{field}"' in refused.text and message in refused.text, form
        assert "Nothing was saved" in refused.text and "data-secret" not in refused.text
    assert await hooks.list_webhooks(ctx) == []


async def test_only_admins_reach_the_page_or_its_buttons(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    made = await client.post(
        "/webhooks", data={"url": "https://x.example/", "events": ["run.failed"]}
    )
    assert made.status_code == 200
    [hook] = await hooks.list_webhooks(ctx)
    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER):
        headers = await bearer_headers(ctx, f"{role.value}-page", role)
        assert (await client.get("/webhooks", headers=headers)).status_code == 403
        assert 'href="/webhooks"' not in (await client.get("/missions", headers=headers)).text
        for path in (f"/webhooks/{hook.id}/test", f"/webhooks/{hook.id}/delete"):
            assert (await client.post(path, headers=headers)).status_code == 403
        add = await client.post(
            "/webhooks",
            headers=headers,
            data={"url": "https://y.example/", "events": ["run.failed"]},
        )
        assert add.status_code == 403
    assert [h.url for h in await hooks.list_webhooks(ctx)] == ["https://x.example/"]
