"""``GET /api/v1/ids/<kind>/{prefix}``: who may ask, and what hostile text gets."""

import asyncio

import httpx2
from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.schemas.ids import IdKind
from tests.support.auth import bearer_headers


def http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def test_a_viewer_resolves_a_mission_and_is_refused_webhooks(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        made = await admin.post("/api/v1/missions", json={"goal": "A quiz night scoreboard"})
        subscription = {"url": "https://hooks.example.com/x", "events": ["run.failed"]}
        hook = await admin.post("/api/v1/webhooks", json=subscription)
    assert made.status_code == 201 and hook.status_code == 201, hook.text
    mission_id, hook_id = made.json()["id"], hook.json()["webhook"]["id"]
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    async with http(app, viewer) as client, http(app) as anonymous:
        found = await client.get(f"/api/v1/ids/missions/{mission_id[:15]}")
        refused = await client.get(f"/api/v1/ids/webhooks/{hook_id[:15]}")
        unsigned = await anonymous.get(f"/api/v1/ids/missions/{mission_id[:15]}")
    assert found.status_code == 200 and found.json() == {"id": mission_id}
    assert refused.status_code == 403  # which webhook ids exist is an admin's to know
    assert unsigned.status_code == 401


async def test_hostile_prefixes_are_client_errors_never_500(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx, "vic", Role.VIEWER)) as client:
        answers = {
            text: await client.get(f"/api/v1/ids/missions/{text}")
            for text in ("01a", "zzzz", "%00%00%00%00", "0" * 33, "a" * 5000, "01a2%27%20OR%201=1")
        }
        unknown_kind = await client.get("/api/v1/ids/users/01a2")
    for text, answer in answers.items():
        assert answer.status_code in (404, 414, 422), (text[:20], answer.status_code)
        assert answer.status_code != 500
    assert answers["zzzz"].json()["error"]["field"] == "prefix"
    assert unknown_kind.status_code == 404


async def test_every_kind_has_a_route_and_twins_agree(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        made = await admin.post("/api/v1/missions", json={"goal": "A darts league table"})
        mission_id = made.json()["id"]
        twins = await asyncio.gather(
            *(admin.get(f"/api/v1/ids/missions/{mission_id[:16]}") for _ in range(2))
        )
        for kind in IdKind:
            none = await admin.get(f"/api/v1/ids/{kind.value}/ffffffff")
            assert none.status_code == 404, kind
            assert f"no {kind.singular} has an id" in none.json()["error"]["message"]
    assert [t.json() for t in twins] == [{"id": mission_id}] * 2
