"""``/api/v1/webhooks`` on both databases: the secret once, admins only, hostile input refused."""

import asyncio
import json
from typing import Any

import httpx2

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.domain.webhooks import SUBSCRIBABLE
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.webhooks import EventType
from missionctl.security.signing import SIGNATURE_HEADER, verify
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings, WebhookSettings
from tests.support.auth import bearer_headers
from tests.webhooks.receiver import receiving


def _app(client: httpx2.AsyncClient) -> Any:
    return client._transport.app  # type: ignore[attr-defined]


async def test_an_admin_subscribes_tests_and_reads_the_log_without_the_secret(
    client: httpx2.AsyncClient,
) -> None:
    with receiving([500]) as receiver:
        made = await client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["run.failed", "run.failed", "budget.exceeded"]},
        )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        webhook = made.json()["webhook"]
        assert secret.startswith("whsec_") and webhook["events"] == [
            "run.failed",
            "budget.exceeded",
        ]
        assert (webhook["format"], webhook["enabled"], webhook["workflow"]) == ("json", True, None)

        tested = await client.post(f"/api/v1/webhooks/{webhook['id']}/test")
        assert tested.status_code == 200, tested.text
        assert (tested.json()["status"], tested.json()["status_code"]) == ("pending", 500)
        again = await client.post(f"/api/v1/webhooks/deliveries/{tested.json()['id']}/redeliver")
        assert (again.json()["status"], again.json()["status_code"]) == ("delivered", 200)

        log = await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries")
        assert [d["status_code"] for d in log.json()] == [200, 500]
    for request in receiver.requests:
        verify(secret, request.body, request.headers[SIGNATURE_HEADER])
        assert json.loads(request.body)["type"] == "webhook.test"

    reads = [
        await client.get("/api/v1/webhooks"),
        await client.get(f"/api/v1/webhooks/{webhook['id']}"),
        log,
    ]
    assert all(r.status_code == 200 and secret not in r.text for r in reads)
    events = await read_event_page(_app(client).state.ctx, limit=1000)
    saved = [e for e in events if e.type == "webhook.saved"]
    assert saved and saved[0].payload["url"] == receiver.url.rsplit("/", 1)[0]
    assert all(secret not in json.dumps(e.payload) for e in events)


async def test_changes_and_deletion_are_recorded(client: httpx2.AsyncClient) -> None:
    made = await client.post(
        "/api/v1/webhooks",
        json={
            "url": "https://bot:hunter2-password@hooks.example.com/x",
            "events": ["run.completed"],
            "workflow": "nightly",
            "format": "slack",
        },
    )
    hook = made.json()["webhook"]
    assert hook["url"] == "https://***@hooks.example.com/x"  # credentials never read back
    path = f"/api/v1/webhooks/{hook['id']}"
    off = await client.patch(path, json={"enabled": False, "events": ["worker.offline"]})
    assert (off.json()["enabled"], off.json()["events"]) == (False, ["worker.offline"])
    assert off.json()["workflow"] == "nightly" and off.json()["format"] == "slack"
    cleared = await client.patch(path, json={"workflow": None})
    assert cleared.json()["workflow"] is None
    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).status_code == 404
    assert (await client.delete(path)).status_code == 404
    assert (await client.get(f"{path}/deliveries")).status_code == 404
    events = await read_event_page(_app(client).state.ctx, limit=1000)
    kinds = [e.type for e in events if e.type.startswith("webhook.")]
    assert kinds.count("webhook.saved") == 3 and kinds.count("webhook.deleted") == 1
    assert all("hunter2" not in json.dumps(e.payload) for e in events)


HOSTILE: list[tuple[dict[str, Any], str]] = [
    ({"url": "https://x.example/" + "a" * 5000, "events": ["run.failed"]}, "url"),
    ({"url": "ftp://files.example/hook", "events": ["run.failed"]}, "url"),
    ({"url": "javascript:alert(1)", "events": ["run.failed"]}, "url"),
    ({"url": "https://", "events": ["run.failed"]}, "url"),
    ({"url": "https://x.example:99999/", "events": ["run.failed"]}, "url"),
    ({"url": "https://x.example/\x00", "events": ["run.failed"]}, "url"),
    ({"url": "https://x.example/", "events": ["run.exploded"]}, "events.0"),
    ({"url": "https://x.example/", "events": []}, "events"),
    ({"url": "https://x.example/", "events": ["run.failed"] * 500}, "events"),
    ({"url": "https://x.example/", "events": ["run.failed"], "format": "xml"}, "format"),
    (
        {"url": "https://x.example/", "events": ["run.failed"], "workflow": "w" * 201},
        "workflow",
    ),
    ({"url": "https://x.example/", "events": ["run.failed"], "secret": "mine"}, "secret"),
    ({"url": ["https://x.example/"], "events": ["run.failed"]}, "url"),
]


async def test_hostile_input_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx2.AsyncClient,
) -> None:
    for body, field in HOSTILE:
        refused = await client.post("/api/v1/webhooks", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field, (body, refused.text)
    assert (await client.get("/api/v1/webhooks")).json() == []


async def test_a_deep_body_and_a_bad_change_are_refused(client: httpx2.AsyncClient) -> None:
    deep: Any = "run.failed"
    for _ in range(200):
        deep = [deep]
    refused = await client.post(
        "/api/v1/webhooks", json={"url": "https://x.example/", "events": deep}
    )
    assert refused.status_code == 422
    made = await client.post(
        "/api/v1/webhooks", json={"url": "https://x.example/", "events": ["run.failed"]}
    )
    path = f"/api/v1/webhooks/{made.json()['webhook']['id']}"
    bad = await client.patch(path, json={"url": "file:///etc/passwd"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"
    assert (await client.get(path)).json()["url"] == "https://x.example/"
    assert (await client.get("/api/v1/webhooks/not-an-id")).status_code == 422
    missing = await client.post(
        "/api/v1/webhooks/deliveries/0190a0b0-0000-7000-8000-000000000000/redeliver"
    )
    assert missing.status_code == 404


async def test_only_an_admin_may_see_or_touch_webhooks(client: httpx2.AsyncClient) -> None:
    made = await client.post(
        "/api/v1/webhooks", json={"url": "https://x.example/", "events": ["run.failed"]}
    )
    hook_id = made.json()["webhook"]["id"]
    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER):
        headers = await bearer_headers(_app(client).state.ctx, user=f"u-{role.value}", role=role)
        attempts = [
            client.post(
                "/api/v1/webhooks",
                json={"url": "https://y.example/", "events": ["run.failed"]},
                headers=headers,
            ),
            client.get("/api/v1/webhooks", headers=headers),
            client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=headers),
            client.patch(f"/api/v1/webhooks/{hook_id}", json={"enabled": False}, headers=headers),
            client.delete(f"/api/v1/webhooks/{hook_id}", headers=headers),
            client.post(f"/api/v1/webhooks/{hook_id}/test", headers=headers),
        ]
        for attempt in attempts:
            assert (await attempt).status_code == 403, role
    listed = (await client.get("/api/v1/webhooks")).json()
    assert [(h["url"], h["enabled"]) for h in listed] == [("https://x.example/", True)]


def test_the_schema_lists_exactly_the_subscribable_types() -> None:
    assert EventType.__args__ == SUBSCRIBABLE  # type: ignore[attr-defined]


async def test_the_server_follows_the_log_and_sends_by_itself(settings: Settings) -> None:
    fast = settings.model_copy(update={"webhooks": WebhookSettings(poll_s=0.05)})
    app = create_app(fast)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        headers = await bearer_headers(ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            with receiving() as receiver:
                made = await http.post(
                    "/api/v1/webhooks", json={"url": receiver.url, "events": ["worker.offline"]}
                )
                secret = made.json()["secret"]
                async with ctx.write() as session:
                    offline = NewEvent(
                        type="worker.offline", actor="system", payload={"name": "w1"}
                    )
                    await append(session, [offline])
                assert await asyncio.to_thread(receiver.arrived.wait, 10)
                [request] = receiver.requests
        verify(secret, request.body, request.headers[SIGNATURE_HEADER])
        assert json.loads(request.body)["payload"] == {"name": "w1"}
